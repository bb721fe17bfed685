"""``Json``: a JSON object as the code passes it around (a cerfa, a payload, an OPCO body).

The one alias for every layer (domain, services, adapters, the simulator): a decoded JSON object
whose shape is checked elsewhere (the event contracts, the control rules, an OPCO's answer).
"""

from __future__ import annotations

from typing import Any, TypeAlias

Json: TypeAlias = dict[str, Any]
