from enum import Enum, StrEnum


class NAMES:
    DAILY = "ops-daily"
    WEEKLY = "ops-weekly"


class Flows(Enum):
    HOURLY = "ops-hourly"


class Kind(str, Enum):
    AUDIT = "ops-audit"


class Stage(StrEnum):
    PROD = "prod"


TEAM = "ops"
FLOW_NAMES = {"cleanup": "ops-cleanup"}
