"""All models; import from here."""

from fieldapp.models.audit import AuditLog, ChangeCounter, ChangeReservation
from fieldapp.models.base import Base, new_uuid, table_of, utcnow
from fieldapp.models.campaign import Campaign
from fieldapp.models.geo import Town, Village, VillageGroup
from fieldapp.models.household import (
    HOUSEHOLD_FIELDS,
    Household,
    HouseholdMember,
    HouseholdRevision,
)
from fieldapp.models.photo import VisitPhoto
from fieldapp.models.replication import (
    AppliedCommand,
    DecisionConflict,
    Node,
    ReplicationCommand,
    ReplicationReject,
    UpstreamState,
)
from fieldapp.models.report import (
    DayProgress,
    HouseholdDayProgress,
    HouseholdProgress,
    ReportCursor,
    VillageProgress,
    WorkerHouseholdProgress,
    WorkerVillageProgress,
)
from fieldapp.models.review import Conflict, DuplicateCandidate, HouseholdMerge
from fieldapp.models.user import ROLES, DeviceToken, LoginAttempt, ScopeRemoval, User, user_villages
from fieldapp.models.visit import RETURN_KINDS, REVIEW_STATUSES, SYNC_STATUSES, SyncBatch, Visit

__all__ = [
    "table_of",
    "AppliedCommand", "DecisionConflict", "Node", "ReplicationCommand", "ReplicationReject", "UpstreamState",
    "AuditLog", "Base", "Campaign", "ChangeCounter", "ChangeReservation", "Conflict", "DayProgress", "DeviceToken",
    "DuplicateCandidate", "HOUSEHOLD_FIELDS", "Household", "HouseholdMember", "HouseholdMerge",
    "HouseholdDayProgress", "HouseholdProgress", "HouseholdRevision", "LoginAttempt", "RETURN_KINDS",
    "REVIEW_STATUSES", "ROLES", "SYNC_STATUSES", "ReportCursor", "ScopeRemoval", "SyncBatch", "Town", "User", "Village", "VillageGroup",
    "VillageProgress", "Visit", "VisitPhoto", "WorkerHouseholdProgress", "WorkerVillageProgress", "new_uuid",
    "user_villages", "utcnow",
]
