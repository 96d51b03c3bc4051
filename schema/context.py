"""What every resolver gets: one fresh value per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from db.secret_box import SecretBox
from db.session import Session
from db.viewer import Viewer
from schema.loaders import Loaders


class TokenChanges(Protocol):
    """What a resolver sees of the process's token cache (gateway/auth.py): whether
    it hears broadcast token changes, and a wait until every process has heard one."""

    listening: bool

    async def heard_everywhere(self, session: Session, timeout_s: float) -> bool: ...


@dataclass(slots=True)
class Context:
    """Per-request state (never shared between requests)."""

    request_id: str
    session: Session
    viewer: Viewer | None
    default_page_size: int = 20
    max_page_size: int = 100
    # what secret values are encrypted with (None: no key configured, refused)
    secrets: SecretBox | None = None
    # the process's token cache (None: none, as in the CLI's schema runs)
    tokens: TokenChanges | None = None
    _loaders: Loaders | None = None

    @property
    def loaders(self) -> Loaders:
        """This request's loaders (made on first use; only for an authenticated viewer)."""
        if self._loaders is None:
            assert self.viewer is not None, "authentication happens before execution"
            self._loaders = Loaders(self.session, self.viewer)
        return self._loaders

    @property
    def authenticated(self) -> Viewer:
        """The viewer, who exists once execution starts."""
        assert self.viewer is not None, "authentication happens before execution"
        return self.viewer
