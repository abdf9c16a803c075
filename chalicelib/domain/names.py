"""Names a manager reads instead of codes: lead sources and channels, staff and doctors by MIS id."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.platform.i18n import N_

# Common lead sources in Russian clinics' MIS and call tracking, as their managers name them.
DEFAULT_SOURCES = {
    "yandex_direct": N_("Yandex Direct"), "yandex": N_("Yandex"), "google_ads": N_("Google Ads"),
    "maps": N_("Maps"), "yandex_maps": N_("Yandex Maps"), "2gis": N_("2GIS"), "referral": N_("Referral"),
    "site": N_("Website"), "website": N_("Website"), "seo": N_("Search (SEO)"), "prodoctorov": N_("ProDoctorov"),
    "napopravku": N_("NaPopravku"), "vk": N_("VK"), "instagram": N_("Instagram"), "telegram": N_("Telegram"),
    "avito": N_("Avito"), "sign": N_("Street sign"), "repeat": N_("Returning patient"), "unknown": N_("Not given"),
}
DEFAULT_CHANNELS = {
    "call": N_("Call"), "chat": N_("Website chat"), "messenger": N_("Messenger"), "form": N_("Website form"),
    "email": N_("Email"), "walk_in": N_("Walk-in"),
}
NOBODY = "—"


def namer(settings: ClinicSettings, gettext: Callable[[str], str]) -> Callable[[str, str], str]:
    """`name(kind, code)`: the manager's own name for a code, else the default, else the code itself."""
    own = {"source": settings.source_names, "channel": settings.channel_names, "admin": settings.admins,
           "doctor": settings.doctors}
    defaults = {"source": DEFAULT_SOURCES, "channel": DEFAULT_CHANNELS}

    def name(kind: str, code: str) -> str:
        if code in own.get(kind, {}):
            return own[kind][code]
        if code in defaults.get(kind, {}):
            return gettext(defaults[kind][code])
        if code == NOBODY and kind == "admin":
            return gettext(N_("Not assigned"))
        return code

    return name
