"""The supervision-sampling models, one module per area, imported here so Django sees them."""

from .aql import Evidence, SwitchingRules
from .plans import AnnualPlan, Assignment, Batch, BatchInstitution, Draw, Selection
from .pools import Inspector, InspectorConflict, PoolObject
from .records import (
    Conclusion,
    Disposal,
    InspectionReport,
    Objection,
    SamplingRecord,
    TestResult,
    is_report_code,
    new_report_code,
)
from .reference import InspectionItem, InspectionRules, ProductCategory, SamplingRule, TestItem

__all__ = [
    "AnnualPlan",
    "Assignment",
    "Batch",
    "BatchInstitution",
    "Conclusion",
    "Disposal",
    "Draw",
    "Evidence",
    "InspectionItem",
    "InspectionReport",
    "InspectionRules",
    "Inspector",
    "InspectorConflict",
    "Objection",
    "PoolObject",
    "ProductCategory",
    "SamplingRecord",
    "SamplingRule",
    "Selection",
    "SwitchingRules",
    "TestItem",
    "TestResult",
    "is_report_code",
    "new_report_code",
]
