"""The broker's answer to a request: YES with offers, or NO with messages saying why."""

from __future__ import annotations

from typing import Callable, Literal

from .base import ApiModel
from .common import ComponentMetadata, Cost, MessageItem, Metric
from .execution import Execution


class OfferSet(ApiModel):
    openapi_schema = "OfferSetResponse"
    kind: str | None = None
    meta: ComponentMetadata | None = None
    costs: list[Cost] | None = None
    metrics: list[Metric] | None = None
    result: Literal["YES", "NO"] | None = None
    description: str | None = None
    offers: list[Execution] | None = None

    @property
    def uuid(self) -> str | None:
        return self.meta.uuid if self.meta else None

    @property
    def messages(self) -> list[MessageItem]:
        return list(self.meta.messages or []) if self.meta else []

    def pick(self, predicate: Callable[[Execution], bool] | None = None) -> Execution:
        """The first offer (or the first ``predicate`` likes); :class:`NoOffersError` when there is none."""
        from ..errors import NoOffersError

        offers = (self.offers or []) if self.result == "YES" else []
        chosen = next((o for o in offers if predicate is None or predicate(o)), None)
        if chosen is None:
            raise NoOffersError(self.uuid, self.messages)
        return chosen

    def _repr_html_(self) -> str:
        from ..progress import render_offer_set_html

        return render_offer_set_html(self)
