"""The SMTP password, which never lives in the config file: the environment, else the system keyring."""

from __future__ import annotations

from collections.abc import Mapping

from cardsender.config.model import EmailConfig
from cardsender.domain.errors import ConfigError

PASSWORD_VARIABLE = "CARDSENDER_SMTP_PASSWORD"  # noqa: S105 (the name of the variable, not a password)
KEYRING_SERVICE = "cardsender"


def smtp_password(email: EmailConfig, environ: Mapping[str, str]) -> str:
    """Return the SMTP password: ``$CARDSENDER_SMTP_PASSWORD``, else the system keyring, never the config file.

    The keyring is asked only when the optional ``keyring`` package is installed
    (``pip install 'cardsender[keyring]'``); a missing password is an error that
    says where to put it, never an interactive prompt that would hang the service.
    """
    if environ.get(PASSWORD_VARIABLE):
        return environ[PASSWORD_VARIABLE]
    how = f"set the {PASSWORD_VARIABLE} environment variable"
    try:
        import keyring
    except ImportError:
        raise ConfigError(
            f"no SMTP password for {email.username or 'the mail server'}: {how}, or install cardsender[keyring] "
            f"and store it with 'keyring set {KEYRING_SERVICE} {email.username or 'USERNAME'}'"
        ) from None
    try:
        found = keyring.get_password(KEYRING_SERVICE, email.username)
    except Exception as exc:  # any keyring backend error: the message says what to do instead
        raise ConfigError(f"the system keyring cannot be read ({exc}); {how}") from exc
    if not found:
        raise ConfigError(
            f"no SMTP password for {email.username!r} in the system keyring (service {KEYRING_SERVICE!r}); "
            f"store it with 'keyring set {KEYRING_SERVICE} {email.username}', or {how}"
        )
    return str(found)
