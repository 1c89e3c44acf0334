"""Closed lists every service shares: channels, topics of the #9999 voice menu, severity, lawful bases."""

from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"


class Topic(StrEnum):
    """The #9999 voice-menu topics (domain brief §1a); the menu itself is versioned configuration."""

    LONELY = "LONELY"  # 孤独・孤立に悩んでいる方
    SUICIDAL = "SUICIDAL"  # 死にたいほどつらい方
    POVERTY = "POVERTY"  # 生活に困窮されている方
    FOREIGN_LANG = "FOREIGN_LANG"  # 外国語での相談を希望される方
    WOMEN = "WOMEN"  # 女性の悩み(DV・性暴力等)
    SOGI = "SOGI"  # 性別の違和や同性愛に関して
    SINGLE_MOTHER = "SINGLE_MOTHER"  # シングルマザーの方
    UNDER18 = "UNDER18"  # 18歳以下の方
    DISASTER = "DISASTER"  # 被災していて相談したい方


class Severity(StrEnum):
    """The S0–S4 scale of the domain brief §4; only S3 and S4 open a handoff in the backbone."""

    S0 = "S0"  # 傾聴で終了
    S1 = "S1"  # 情報提供
    S2 = "S2"  # つなぎ
    S3 = "S3"  # 深刻: 現場支援
    S4 = "S4"  # 緊急 (110/119)

    @property
    def is_serious(self) -> bool:
        return self in (Severity.S3, Severity.S4)


class LawfulBasis(StrEnum):
    """Why sharing with a third party is lawful under the APPI (個人情報保護法 27条)."""

    CONSENT = "CONSENT"  # 本人の同意
    LAW_27_1_1 = "LAW_27_1_1"  # 法令に基づく場合 (e.g. a 189 child-abuse report)
    VITAL_INTEREST_27_1_2 = "VITAL_INTEREST_27_1_2"  # 生命・身体の保護, consent hard to obtain
    CHILD_27_1_3 = "CHILD_27_1_3"  # 公衆衛生・児童の健全な育成
    PUBLIC_BODY_27_1_4 = "PUBLIC_BODY_27_1_4"  # cooperating with a public body's statutory duty
