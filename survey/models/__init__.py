"""ORM models, one module per entity; import from here."""

from survey.models.answer_cell import AnswerCell
from survey.models.base import Base
from survey.models.channel import DEFAULT_CHANNELS
from survey.models.channel import Channel
from survey.models.contact_attempt import ContactAttempt
from survey.models.estimate_settings import EstimateSettings
from survey.models.integrity import IntegrityState
from survey.models.integrity import PointHourly
from survey.models.integrity import PointWindow
from survey.models.integrity import ResponseFlag
from survey.models.paper import PaperBatch
from survey.models.paper import PaperMismatch
from survey.models.paper import PaperResponse
from survey.models.point import CollectionPoint
from survey.models.point import PointScanDaily
from survey.models.population import PopulationCount
from survey.models.problem import PROBLEM_KINDS
from survey.models.problem import PROBLEM_STATUSES
from survey.models.problem import Problem
from survey.models.questionnaire import Questionnaire
from survey.models.questionnaire import QuestionnaireVersion
from survey.models.region import LEVELS
from survey.models.region import Region
from survey.models.report_cell import ReportCell
from survey.models.report_indexes import REPORT_INDEX_COLUMNS
from survey.models.response import Answer
from survey.models.response import QualityFlag
from survey.models.response import Response
from survey.models.sample_plan import InterviewerAssignment
from survey.models.sample_plan import PlanQuota
from survey.models.sample_plan import PlanStratum
from survey.models.sample_plan import PlanUnit
from survey.models.sample_plan import SamplePlan
from survey.models.target import TARGET_METRICS
from survey.models.target import Target
from survey.models.user import ROLES
from survey.models.user import AuditLog
from survey.models.user import LoginThrottle
from survey.models.user import User

__all__ = [
    "DEFAULT_CHANNELS",
    "LEVELS",
    "PROBLEM_KINDS",
    "PROBLEM_STATUSES",
    "REPORT_INDEX_COLUMNS",
    "ROLES",
    "TARGET_METRICS",
    "Answer",
    "AnswerCell",
    "AuditLog",
    "Base",
    "Channel",
    "CollectionPoint",
    "ContactAttempt",
    "EstimateSettings",
    "IntegrityState",
    "InterviewerAssignment",
    "LoginThrottle",
    "PaperBatch",
    "PaperMismatch",
    "PaperResponse",
    "PlanQuota",
    "PlanStratum",
    "PlanUnit",
    "PointHourly",
    "PointScanDaily",
    "PointWindow",
    "PopulationCount",
    "Problem",
    "QualityFlag",
    "Questionnaire",
    "QuestionnaireVersion",
    "Region",
    "ReportCell",
    "Response",
    "ResponseFlag",
    "SamplePlan",
    "Target",
    "User",
]
