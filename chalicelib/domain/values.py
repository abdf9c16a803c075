"""The bounded values every input model shares: an id, a name, a text, an amount of money.

Here rather than in the HTTP contract (`edge/contract.py`) because the domain's own input
models (campaign rules, ad spend, an MIS export's row) bound their fields the same way, and
the domain stands below the edge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, StringConstraints

# No '#' (it separates the parts of a stored key) and no control characters.
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128,
                                      pattern=r"^[^#\x00-\x1f]+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# An amount as every model writes it, the contract's and the records' alike: with two decimals.
Amount = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Money = Annotated[Amount, Field(ge=0, max_digits=14, decimal_places=2)]  # an amount that arrives
