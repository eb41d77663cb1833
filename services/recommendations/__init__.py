"""Next best action: catalogue, feature vectors, the decision engine, propensities, learning.

The usual path: ``build_vector`` (or a cached vector) -> ``decide`` with the catalogue from
``load_catalog`` and a propensity (``SegmentPriors``, a trained ``PropensityModel``, either
wrapped in ``OnlinePropensity``) -> show -> ``record_response``.
"""

from services.recommendations.actions import Action, Catalog
from services.recommendations.catalog import CatalogError, default_catalog, load_catalog
from services.recommendations.control import ControlGroup
from services.recommendations.engine import LEVELS, Recommendation, decide
from services.recommendations.learning import (
    OnlineLearner,
    OnlinePropensity,
    record_response,
    uplift,
)
from services.recommendations.propensity import (
    BasePropensity,
    Propensity,
    PropensityModel,
    SegmentPriors,
)
from services.recommendations.recommender import Recommender, make_vector_store
from services.recommendations.trainer import Trained, train_all
from services.recommendations.vector import FeatureVector, build_vector, from_bytes, to_bytes

__all__ = [
    "LEVELS",
    "Action",
    "BasePropensity",
    "Catalog",
    "CatalogError",
    "ControlGroup",
    "FeatureVector",
    "OnlineLearner",
    "OnlinePropensity",
    "Propensity",
    "PropensityModel",
    "Recommendation",
    "Recommender",
    "SegmentPriors",
    "Trained",
    "build_vector",
    "decide",
    "default_catalog",
    "from_bytes",
    "load_catalog",
    "make_vector_store",
    "record_response",
    "to_bytes",
    "train_all",
    "uplift",
]
