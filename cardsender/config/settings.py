"""The config's old single module, kept while imports move to ``model``, ``loading`` and ``password``."""

from __future__ import annotations

from cardsender.config.loading import (
    CHRISTMAS_POLICY,
    CONFIG_ENV,
    CONFIG_FILENAME,
    SAVE_AS_UTF8,
    config_text,
    find_config_path,
    load_config,
    parse_config,
)
from cardsender.config.model import (
    CARD_FORMATS,
    DATE_FORMATS,
    AprilFoolsConfig,
    BirthdayConfig,
    CheckInConfig,
    Config,
    DatabaseConfig,
    EmailConfig,
    ImportConfig,
    KeepInTouchConfig,
    OccasionsConfig,
    OfficeConfig,
    PrintConfig,
    TemplatesConfig,
    ThanksgivingConfig,
    ThankYouConfig,
)
from cardsender.config.password import KEYRING_SERVICE, PASSWORD_VARIABLE, smtp_password

__all__ = [
    "CARD_FORMATS",
    "CHRISTMAS_POLICY",
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "DATE_FORMATS",
    "KEYRING_SERVICE",
    "PASSWORD_VARIABLE",
    "SAVE_AS_UTF8",
    "AprilFoolsConfig",
    "BirthdayConfig",
    "CheckInConfig",
    "Config",
    "DatabaseConfig",
    "EmailConfig",
    "ImportConfig",
    "KeepInTouchConfig",
    "OccasionsConfig",
    "OfficeConfig",
    "PrintConfig",
    "TemplatesConfig",
    "ThankYouConfig",
    "ThanksgivingConfig",
    "config_text",
    "find_config_path",
    "load_config",
    "parse_config",
    "smtp_password",
]
