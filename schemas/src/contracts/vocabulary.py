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


class IssueTag(StrEnum):
    """Need tags a counsellor sets on a consultation (domain brief §1b); several per case."""

    ISO = "ISO"  # 孤独・孤立
    MH = "MH"  # メンタル不調
    SUI = "SUI"  # 自殺念慮・自傷
    HLT = "HLT"  # 病気・障害
    FAM = "FAM"  # 家族・家庭
    REL = "REL"  # 人間関係
    WRK = "WRK"  # 仕事・失業
    SCH = "SCH"  # 学校・不登校・いじめ
    MON = "MON"  # 生活困窮・借金
    HOU = "HOU"  # 住まい
    FOOD = "FOOD"  # 食料
    DV = "DV"  # DV・性暴力・虐待
    CHILD = "CHILD"  # 子育て・こどもの安全
    HIK = "HIK"  # ひきこもり
    SOGI = "SOGI"  # 性的指向・性自認
    FRN = "FRN"  # 外国人・言語
    DIS = "DIS"  # 被災
    ELD = "ELD"  # 高齢・介護
    LEG = "LEG"  # 法律・消費者被害


class AgeBand(StrEnum):
    """Bands, not ages: enough for eligibility, too coarse to identify anyone."""

    UNDER_12 = "0-11"
    TEEN = "12-17"
    YOUNG_ADULT = "18-29"
    ADULT = "30-64"
    SENIOR = "65+"
    UNKNOWN = "unknown"

    @property
    def bounds(self) -> tuple[int, int] | None:
        return {
            AgeBand.UNDER_12: (0, 11),
            AgeBand.TEEN: (12, 17),
            AgeBand.YOUNG_ADULT: (18, 29),
            AgeBand.ADULT: (30, 64),
            AgeBand.SENIOR: (65, 130),
        }.get(self)


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    OUT_OF_AREA = "out_of_area"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"


class OutcomeStage(StrEnum):
    """The outcome track once a partner accepted: 面談, 同行支援, then closed."""

    CONTACTED = "contacted"  # 面談 done
    ACCOMPANIED = "accompanied"  # 同行支援 (hospital, police, welfare office …)
    CLOSED = "closed"


class OutcomeCode(StrEnum):
    SUPPORTED = "supported"
    REFERRED_ON = "referred_on"
    PERSON_DECLINED = "person_declined"
    COULD_NOT_REACH = "could_not_reach"
    OTHER = "other"


class HandledElsewhereReason(StrEnum):
    """How a referral no organisation took was handled outside Tsunagu, as an operator records it."""

    PARTNER_BY_PHONE = "partner_by_phone"  # an organisation took it over the phone
    EMERGENCY_SERVICES = "emergency_services"  # police or ambulance (110/119) took over
    HOTLINE_FOLLOW_UP = "hotline_follow_up"  # the hotline itself follows the person up
    PERSON_DECLINED = "person_declined"  # the person no longer wants support
    COULD_NOT_REACH = "could_not_reach"  # the person could not be reached
    DUPLICATE = "duplicate"  # another case covers it
    OTHER = "other"


class AlertKind(StrEnum):
    """Why an operator must look at a case now."""

    NO_LOCAL_MATCH = "no_local_match"  # fell back to national organisations
    NO_MATCH = "no_match"  # nobody at all can take it
    REFERRAL_EXHAUSTED = "referral_exhausted"  # every candidate declined or let it expire
    DELIVERY_FAILED = "delivery_failed"
    S4_UNACKNOWLEDGED = "s4_unacknowledged"  # an emergency no organisation has accepted in time
    DEAD_LETTERED = "dead_lettered"  # a record no consumer could apply went to a dead-letter topic
