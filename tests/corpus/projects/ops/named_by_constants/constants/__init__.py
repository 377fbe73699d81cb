from .names import FLOW_NAMES, NAMES, TEAM, Flows, Kind, Stage
