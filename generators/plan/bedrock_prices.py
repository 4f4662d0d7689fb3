"""Amazon Bedrock on-demand token prices: the catalog's `bedrock` block and how it is built.

The block holds, per region, USD per million tokens of each text model sold on demand, by
direction: input, output, and where the model has prompt caching, cache read and cache write.
Keys are the IDs a manifest names: a foundation model ID (anthropic.claude-sonnet-4-5-20250929-v1:0)
or a system-defined cross-region inference profile ID (us.anthropic...), whose geography decides
the regions it is listed in (`GEOGRAPHIES`).

`from_litellm` builds it from LiteLLM's model price file (BerriAI/litellm, MIT), the most complete
public, versioned, machine-readable copy of the Bedrock price page: `genai-finops prices bedrock
--litellm FILE` rebuilds the block from a file you downloaded, so every figure can be traced to
one released version. A model the block lacks in a region is an error in the estimate, never zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A million tokens: the unit AWS's Bedrock price page and the catalog use.
PER_MILLION = 1_000_000

# AWS usage types of Bedrock tokens end so, one per direction (Bedrock's "Understanding your Cost
# and Usage Report data": all four count); most specific first, as the cache ones contain "input".
# The Price List's usage types and the billing rows' alike.
USAGE_TYPE_SUFFIXES = (
    ("-cache-read-input-token-count", "cache_read"),
    ("-cache-write-input-token-count", "cache_write"),
    ("-input-tokens", "input"),
    ("-output-tokens", "output"),
)

# Cross-region (system-defined) inference profile IDs start with their geography; a profile of a
# geography routes within it and is created from a source region inside it:
# https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
# ("global." profiles route to any commercial region and can be called from each of them).
GEOGRAPHIES: dict[str, tuple[str, ...]] = {"us-": ("us", "global"), "eu-": ("eu", "global"), "ap-": ("apac", "global")}
PROFILE_PREFIXES = ("us", "eu", "apac", "global", "jp", "au", "us-gov", "in", "ca")

# Model developers AWS sells on Bedrock (https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html):
# the first part of a foundation model ID.
PROVIDERS = frozenset({
    "ai21", "amazon", "anthropic", "cohere", "deepseek", "google", "meta", "minimax", "mistral", "moonshot",
    "moonshotai", "nvidia", "openai", "qwen", "writer", "xai", "zai",
})
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9.:-]*$")
_REGIONAL = re.compile(r"^bedrock/(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)/(?P<model>[^/]+)$")

# LiteLLM's fields, USD per token, and the catalog's names for them.
_FIELDS = {"input_cost_per_token": "input", "output_cost_per_token": "output",
           "cache_read_input_token_cost": "cache_read", "cache_creation_input_token_cost": "cache_write"}


@dataclass(frozen=True)
class TokenPrices:
    """USD per million tokens of one model in one region; cache prices None where it has none."""

    model: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        """What `input_tokens` and `output_tokens` (uncached) cost on this model."""
        return (input_tokens * self.input + output_tokens * self.output) / PER_MILLION


def split_model(model: str) -> tuple[str | None, str]:
    """(geography prefix or None, the foundation model ID): us.anthropic.x -> ("us", "anthropic.x")."""
    first, _, rest = model.partition(".")
    if first in PROFILE_PREFIXES and "." in rest:
        return first, rest
    return None, model


def _known(model: str) -> bool:
    """A foundation model or profile ID of a provider AWS lists (not LiteLLM's aliases and routes)."""
    _, foundation = split_model(model)
    provider, _, name = foundation.partition(".")
    return provider in PROVIDERS and bool(_MODEL_NAME.match(name))


def listed_in(region: str) -> tuple[str, ...]:
    """The profile geographies a region's block lists beside its in-region model IDs."""
    return next((geos for prefix, geos in GEOGRAPHIES.items() if region.startswith(prefix)), ("global",))


def from_litellm(data: dict[str, Any], regions: list[str], source: str) -> dict[str, Any]:
    """The catalog's `bedrock` block for `regions` from LiteLLM's price file.

    Text models (mode chat) with an input and an output price; a `bedrock/<region>/<model>` entry
    where LiteLLM lists one for the region, else the model's one figure."""
    base: dict[str, dict[str, Any]] = {}
    regional: dict[str, dict[str, dict[str, Any]]] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or not str(entry.get("litellm_provider", "")).startswith("bedrock") or entry.get("mode") != "chat":
            continue
        if not _positive(entry.get("input_cost_per_token")) or not _positive(entry.get("output_cost_per_token")):
            continue
        found = _REGIONAL.match(key)
        if found:
            regional.setdefault(found.group("region"), {})[found.group("model")] = entry
        elif _known(key):
            base[key] = entry
    block: dict[str, Any] = {}
    for region in regions:
        geographies = listed_in(region)
        models = {}
        for model, entry in sorted(base.items()):
            geography, _ = split_model(model)
            if geography is not None and geography not in geographies:
                continue
            models[model] = _prices(regional.get(region, {}).get(model, entry))
        block[region] = {"source": source, "models": models}
    return block


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _prices(entry: dict[str, Any]) -> dict[str, float]:
    """USD per million tokens, rounded to the cent's ten-thousandth (LiteLLM stores 3e-06 as 2.9999e-06 at times)."""
    return {name: round(float(entry[field]) * PER_MILLION, 6) for field, name in _FIELDS.items() if _positive(entry.get(field))}
