"""Pure statistics for annotator: inter-rater agreement and label shares.

No Flask, database or other annotator imports: functions take plain Python data
(``(item_id, rater_id, label)`` tuples, label counts) and return dataclasses that
``dataclasses.asdict`` turns into JSON-ready dicts. Undefined figures are ``None``, not ``nan``.
"""

from __future__ import annotations

from annotator.stats._ratings import CodedRatings, Rating
from annotator.stats.agreement import (
    AgreementSummary,
    FleissResult,
    PairKappa,
    agreement_summary,
    cohen_kappa_pairs,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_alpha_of_table,
    percent_agreement,
    percent_agreement_of_table,
    summary_of,
)
from annotator.stats.proportions import Share, label_shares, wilson_interval

__all__ = [
    "AgreementSummary",
    "CodedRatings",
    "FleissResult",
    "PairKappa",
    "Rating",
    "Share",
    "agreement_summary",
    "cohen_kappa_pairs",
    "confusion_matrix",
    "fleiss_kappa",
    "krippendorff_alpha",
    "krippendorff_alpha_of_table",
    "label_shares",
    "percent_agreement",
    "percent_agreement_of_table",
    "summary_of",
    "wilson_interval",
]
