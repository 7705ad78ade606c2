"""Credentials from the environment or a secrets directory, never from a spec file.

``HAYATE_<VENUE>_API_KEY`` / ``HAYATE_<VENUE>_API_SECRET`` (e.g. ``HAYATE_BYBIT_API_KEY``),
or files of those names in the directory given by ``hayate run --secrets-dir`` (also
``HAYATE_SECRETS_DIR``), the layout Docker and Kubernetes secrets use. Values are
``SecretStr``: they print as ``**********`` in logs, errors and reprs.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Credentials", "load_credentials"]


class Credentials(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None

    @property
    def complete(self) -> bool:
        return bool(self.api_key and self.api_secret and self.api_key.get_secret_value()
                    and self.api_secret.get_secret_value())


def load_credentials(venue: str, secrets_dir: str | Path | None = None) -> Credentials:
    """Read ``HAYATE_<VENUE>_API_KEY``/``_API_SECRET`` from the environment or secrets dir."""
    prefix = f"HAYATE_{venue.upper()}_"
    directory = secrets_dir or os.environ.get("HAYATE_SECRETS_DIR")
    settings_cls = type(
        "VenueCredentials",
        (Credentials,),
        {"model_config": SettingsConfigDict(env_prefix=prefix, extra="ignore",
                                            case_sensitive=False,
                                            secrets_dir=str(directory) if directory else None)},
    )
    return settings_cls()
