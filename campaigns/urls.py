"""The campaign manager's pages, gathered from the sub-packages that own them (mounted at /campaigns/)."""

from django.urls import path

from campaigns.accounts import team_views
from campaigns.credits import views as credit_views
from campaigns.customers import audience_views, transaction_views
from campaigns.customers import views as customer_views
from campaigns.dlt import template_import_views, template_views
from campaigns.lifecycle import views as campaign_views
from campaigns.sending import link_settings_views, preview_views, test_send_views
from campaigns.sending import rules_views as sending_rules_views

app_name = "campaigns"
urlpatterns = [
    path("", campaign_views.campaign_list, name="list"),
    path("new/", campaign_views.campaign_new, name="new"),
    path("<int:pk>/", campaign_views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", campaign_views.campaign_edit, name="edit"),
    path("<int:pk>/delete/", campaign_views.campaign_delete, name="delete"),
    path("<int:pk>/duplicate/", campaign_views.campaign_duplicate, name="duplicate"),
    path("<int:pk>/launch/", campaign_views.campaign_launch, name="launch"),
    path("<int:pk>/approve/", campaign_views.campaign_approve, name="approve"),
    path("<int:pk>/reject/", campaign_views.campaign_reject, name="reject"),
    path("<int:pk>/withdraw/", campaign_views.campaign_withdraw, name="withdraw"),
    path("<int:pk>/preview/", preview_views.campaign_preview_page, name="preview"),
    path("<int:pk>/preview/check-links/", preview_views.campaign_preview_check_links, name="preview-check-links"),
    path("<int:pk>/preview/test/", test_send_views.campaign_proof_send, name="proof-send"),
    path("<int:pk>/preview/empty-fields/", campaign_views.campaign_fallbacks, name="fallbacks"),
    path("templates/", template_views.template_list, name="template-list"),
    path("templates/new/", template_views.template_new, name="template-new"),
    path("templates/import/", template_import_views.template_import, name="template-import"),
    path("templates/<int:pk>/edit/", template_views.template_edit, name="template-edit"),
    path("templates/url-whitelist/<int:org_pk>/", template_views.url_whitelist, name="url-whitelist"),
    path(
        "templates/url-whitelist/<int:org_pk>/<int:pk>/remove/",
        template_views.url_whitelist_remove,
        name="url-whitelist-remove",
    ),
    path("<int:pk>/pause/", campaign_views.campaign_pause, name="pause"),
    path("<int:pk>/resume/", campaign_views.campaign_resume, name="resume"),
    path("<int:pk>/cancel/", campaign_views.campaign_cancel, name="cancel"),
    path("<int:pk>/resend/", campaign_views.campaign_resend, name="resend"),
    path("<int:pk>/progress.json", campaign_views.campaign_progress_json, name="progress"),
    path("customers/", customer_views.customer_list, name="customer-list"),
    path("customers/import/", customer_views.customer_import, name="customer-import"),
    path("customers/add-to-list/", customer_views.customer_bulk_add, name="customer-bulk-add"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/subscription/", customer_views.customer_subscription, name="customer-subscription"),
    path("customers/<int:pk>/lists/", customer_views.customer_lists, name="customer-lists"),
    path("customers/<int:pk>/erase/", customer_views.customer_erase, name="customer-erase"),
    path("transactions/", transaction_views.transactions_page, name="transactions"),
    path("transactions/window/", transaction_views.attribution_window_change, name="attribution-window"),
    path("imports/<str:job_id>/", customer_views.import_progress, name="import-progress"),
    path("imports/<str:job_id>/skipped.csv", customer_views.import_skipped_export, name="import-skipped"),
    path("lists/", audience_views.list_index, name="list-index"),
    path("lists/new/", audience_views.list_new, name="list-new"),
    path("lists/<int:pk>/", audience_views.list_detail, name="list-detail"),
    path("lists/<int:pk>/edit/", audience_views.list_edit, name="list-edit"),
    path("lists/<int:pk>/delete/", audience_views.list_delete, name="list-delete"),
    path("lists/<int:pk>/remove/", audience_views.list_remove, name="list-remove"),
    path("<int:pk>/follow-up-list/", audience_views.campaign_follow_up_list, name="follow-up-list"),
    path("<int:pk>/links/", link_settings_views.campaign_link_settings, name="link-settings"),
    path("segments/", audience_views.segment_index, name="segment-index"),
    path("segments/new/", audience_views.segment_new, name="segment-new"),
    path("segments/count/", audience_views.segment_count, name="segment-count"),
    path("segments/<int:pk>/", audience_views.segment_detail, name="segment-detail"),
    path("segments/<int:pk>/edit/", audience_views.segment_edit, name="segment-edit"),
    path("segments/<int:pk>/delete/", audience_views.segment_delete_page, name="segment-delete"),
    path("ndnc/", customer_views.ndnc_register, name="ndnc"),
    path("team/", team_views.team_page, name="team"),
    path("team/<int:org_pk>/invite/", team_views.team_invite, name="team-invite"),
    path(
        "team/<int:org_pk>/invitations/<int:pk>/resend/",
        team_views.team_invitation_resend,
        name="team-invitation-resend",
    ),
    path(
        "team/<int:org_pk>/invitations/<int:pk>/cancel/",
        team_views.team_invitation_cancel,
        name="team-invitation-cancel",
    ),
    path("team/<int:org_pk>/members/<int:pk>/remove/", team_views.team_member_remove, name="team-member-remove"),
    path("team/join/<uidb64>/<token>/", team_views.TeamJoinView.as_view(), name="team-join"),
    path("sending-rules/", sending_rules_views.sending_rules_page, name="sending-rules"),
    path("sending-rules/<int:org_pk>/", sending_rules_views.sending_rules_change, name="sending-rules-change"),
    path(
        "sending-rules/<int:org_pk>/launch-approval/",
        sending_rules_views.launch_approval_change,
        name="sending-rules-launch-approval",
    ),
    path("credits/", credit_views.credits_page, name="credits"),
    path("credits/<int:org_pk>/warning/", credit_views.credits_alert_change, name="credits-alert"),
]
