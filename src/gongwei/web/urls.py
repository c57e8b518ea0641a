from django.contrib.auth import views as auth_views
from django.urls import path

from gongwei.web import views
from gongwei.web.pages import bulletins as bulletin_pages
from gongwei.web.pages import contracts as contract_pages
from gongwei.web.pages import coverage as coverage_pages  # issue 13 §6
from gongwei.web.pages import dashboard
from gongwei.web.pages import encounters as encounter_pages
from gongwei.web.pages import evaluation as evaluation_pages
from gongwei.web.pages import examinations as exam_pages  # issue 11 §5 (i11adult)
from gongwei.web.pages import funds as funds_pages  # issue 12 (i12funds)
from gongwei.web.pages import jobs as job_pages
from gongwei.web.pages import maternal_child as mch_pages
from gongwei.web.pages import me as me_pages
from gongwei.web.pages import quality as quality_pages
from gongwei.web.pages import registration as registration_pages
from gongwei.web.pages import residents as resident_pages
from gongwei.web.pages import supervision as supervision_pages  # issue 13 §4–5
from gongwei.web.pages import surveys as survey_pages  # issue 13 §3
from gongwei.web.pages import verification as verification_pages
from gongwei.web.pages import workload as workload_pages  # issue 12 (i12funds)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("quality/", views.quality_home, name="quality_home"),
    path("unit/<str:code>/", views.unit, name="unit"),
    # --- indicator dashboard and drill-down (issue 10 §2–3, web/pages/dashboard.py) ---
    path("unit/<str:code>/indicators/", dashboard.indicators, name="indicators"),
    path("unit/<str:code>/indicators/<str:indicator>/", dashboard.indicator, name="indicator"),
    path("unit/<str:code>/indicators/<str:indicator>/gaps/", dashboard.gaps, name="gaps"),
    path("unit/<str:code>/indicators/<str:indicator>/gaps.xlsx", dashboard.gaps_export, name="gaps_export"),
    # issue 11 (1–2): find a resident, the record's home page
    path("residents/", resident_pages.search, name="residents"),
    path("resident/<str:record_no>/", resident_pages.record, name="resident"),
    # --- background jobs (issue 10 point 5: web/pages/jobs.py) ---
    path("jobs/", job_pages.job_list, name="jobs"),
    path("jobs/<int:job_id>/", job_pages.job_detail, name="job"),
    path("jobs/<int:job_id>/status.json", job_pages.job_status, name="job_status"),
    path("jobs/<int:job_id>/download/", job_pages.job_download, name="job_download"),
    # --- data quality (issue 10 point 4): scorecard, rectification ledger, duplicate queue, closing list ---
    path("unit/<str:code>/quality/", quality_pages.scorecard, name="quality"),
    path("unit/<str:code>/findings/", quality_pages.findings, name="quality-findings"),
    path("unit/<str:code>/duplicates/", quality_pages.duplicates, name="quality-duplicates"),
    path("unit/<str:code>/close/", quality_pages.close, name="quality-close"),
    # --- a resident's own record (issue 11 §7, ADR 021) and the clinic issuing the resident's password ---
    path("me/", me_pages.home, name="me"),
    path("me/login/", me_pages.sign_in, name="me_login"),
    path("me/logout/", me_pages.sign_out, name="me_logout"),
    path("resident/<str:record_no>/password/", me_pages.issue, name="resident_password"),
    # --- family-doctor contracts of a resident (issue 11 §6) ---
    path("resident/<str:record_no>/contracts/", contract_pages.contracts, name="resident_contracts"),
    # --- issue 11 §3: create, edit and close residents (web/pages/registration.py) ---
    path("residents/new/", registration_pages.new, name="registration-new"),
    path("residents/new/check/", registration_pages.check, name="registration-check"),
    path("residents/new/households/", registration_pages.households, name="registration-households"),
    path("resident/<str:record_no>/edit/", registration_pages.edit, name="resident-edit"),
    path("resident/<str:record_no>/close/", registration_pages.close, name="resident-close"),
    # --- issue 11 (4–5): chronic follow-up form with the rule at entry, the worklist (web/pages/encounters.py) ---
    path("resident/<str:record_no>/follow-up/<str:program>/", encounter_pages.follow_up, name="follow_up"),
    path("resident/<str:record_no>/follow-up/<str:program>/propose/", encounter_pages.follow_up_propose,
         name="follow_up_propose"),
    path("resident/<str:record_no>/follow-up/<str:program>/<str:encounter_no>/", encounter_pages.follow_up,
         name="follow_up_edit"),
    path("resident/<str:record_no>/follow-up/<str:program>/<str:encounter_no>/propose/",
         encounter_pages.follow_up_propose, name="follow_up_edit_propose"),
    path("unit/<str:code>/worklist/", encounter_pages.worklist, name="worklist"),
    path("worklist/", encounter_pages.worklist_home, name="worklist_home"),
    path("unit/<str:code>/roster/", encounter_pages.roster, name="roster"),  # 重点人群花名册 (issue 11 §5)
    # --- performance evaluation (issue 12, web/pages/evaluation.py): rounds → a round → a unit → people ---
    path("evaluation/", evaluation_pages.round_list, name="evaluation"),
    path("evaluation/<int:round_id>/", evaluation_pages.round_detail, name="evaluation-round"),
    path("evaluation/<int:round_id>/unit/", evaluation_pages.round_unit, name="evaluation-unit"),
    path("evaluation/<int:round_id>/export.xlsx", evaluation_pages.round_export, name="evaluation-export"),
    # a region's own scheme for a year (issue 12 §1): copy a shipped one, change points and targets
    path("evaluation/schemes/", evaluation_pages.scheme_list, name="evaluation-schemes"),
    path("evaluation/schemes/<str:scheme_code>/", evaluation_pages.scheme_detail, name="evaluation-scheme"),
    # issue 12 (i12funds): the evaluator's entry, scoring, publication and correction; evidence files
    path("evaluation/<int:round_id>/manual/", evaluation_pages.manual_entry, name="evaluation-manual"),
    path("evaluation/<int:round_id>/score/", evaluation_pages.score, name="evaluation-score"),
    path("evaluation/<int:round_id>/publish/", evaluation_pages.publish, name="evaluation-publish"),
    path("evaluation/<int:round_id>/correct/", evaluation_pages.correct, name="evaluation-correct"),
    path("evaluation/<int:round_id>/evidence/<int:entry_id>/", evaluation_pages.evidence,
         name="evaluation-evidence"),
    # funds ledger (issue 12, i12funds; web/pages/funds.py): a unit's rates as of a date, alerts, entry; XLSX
    path("funds/", funds_pages.home, name="funds_home"),
    path("unit/<str:code>/funds/", funds_pages.unit_funds, name="funds"),
    path("unit/<str:code>/funds/export.xlsx", funds_pages.unit_export, name="funds-export"),
    path("unit/<str:code>/workload/", workload_pages.unit_workload, name="workload"),
    # --- bulletins (issue 14 §6, web/pages/bulletins.py): a unit's bulletins, draft, preview, edit, publish ---
    path("bulletins/", bulletin_pages.home, name="bulletins_home"),
    path("unit/<str:code>/bulletins/", bulletin_pages.unit_list, name="bulletins"),
    path("bulletins/<int:pk>/", bulletin_pages.detail, name="bulletin"),
    path("bulletins/<int:pk>/file.<str:fmt>", bulletin_pages.download, name="bulletin_file"),
    # --- verification: reproducible samples, tasks, verified rate beside the platform's (issue 13, ADR 027) ---
    path("verification/", verification_pages.home, name="verification_home"),
    path("unit/<str:code>/samples/", verification_pages.samples, name="samples"),
    path("samples/<str:sample_no>/", verification_pages.sample, name="sample"),
    # --- issue 11 §5 (i11adult): health examination and elderly TCM questionnaire (web/pages/examinations.py);
    # an existing one is edited with ?no=<encounter_no> (the sweep opens every record page of the region) ---
    path("resident/<str:record_no>/exam/", exam_pages.exam, name="exam"),
    path("resident/<str:record_no>/exam/propose/", exam_pages.exam_propose, name="exam_propose"),
    path("resident/<str:record_no>/tcm/", exam_pages.tcm, name="tcm"),
    path("resident/<str:record_no>/tcm/propose/", exam_pages.tcm_propose, name="tcm_propose"),
    # --- issue 11 §4 (i11mch): maternal, child and vaccination forms with the rule at entry (ADR 031) ---
    *(p for slug in ("newborn-visit", "child-check", "child-tcm", "prenatal", "postpartum", "vaccination") for p in (
        path(f"resident/<str:record_no>/{slug}/", mch_pages.entry_form, {"form": slug}, name=f"mch_{slug}"),
        path(f"resident/<str:record_no>/{slug}/propose/", mch_pages.entry_propose, {"form": slug},
             name=f"mch_{slug}_propose"))),
    # --- supervision rounds, rectification periods and base data (issue 13 §4–5, ADR 034) ---
    path("supervision/", supervision_pages.home, name="supervision_home"),
    path("unit/<str:code>/supervision/", supervision_pages.rounds, name="supervision"),
    path("unit/<str:code>/supervision/report/", supervision_pages.period_report, name="supervision_report"),
    path("supervision/<int:round_id>/", supervision_pages.round_detail, name="supervision_round"),
    path("supervision/attachments/<int:attachment_id>/", supervision_pages.attachment, name="supervision_attachment"),
    path("unit/<str:code>/base-data/", supervision_pages.base_data_page, name="base_data"),
    path("unit/<str:code>/base-data/template.xlsx", supervision_pages.base_data_template, name="base_data_template"),
    # --- awareness and satisfaction surveys on a sample (issue 13 §3, ADR 033) ---
    path("unit/<str:code>/surveys/", survey_pages.surveys, name="surveys"),
    path("surveys/<str:survey_no>/", survey_pages.survey, name="survey"),
    path("surveys/<str:survey_no>/<int:position>/", survey_pages.respondent, name="survey_respondent"),
    # --- household coverage against another authority's list (issue 13 §6, ADR 033) ---
    path("unit/<str:code>/coverage/", coverage_pages.lists, name="coverage_lists"),
    path("coverage/<str:import_no>/", coverage_pages.report, name="coverage"),
]
