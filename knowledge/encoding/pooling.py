"""The sentence vector: how token states become one normalised vector, for torch and the export."""

from __future__ import annotations

from typing import Any


def sentence_vector(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """The normalised mean of the tokens' last hidden states (the sentence vector), in torch."""
    import torch

    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1)
