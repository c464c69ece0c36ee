"""Tests that need a real service carry its marker (from the fixtures they use, tests/conftest.py), so CI can run
them apart (`-m postgres`) and a run without the services can leave them out (`-m "not postgres and not redis"`)."""

import json
import subprocess
import sys

import pytest

from tests.workers import ROOT

# Tests known to need each service, by name (wherever their module is).
KNOWN = {
    "postgres": {
        "test_among_sends_a_batch_of_ids_as_one_array_parameter_on_postgresql",
        "test_postgresql_sessions_run_without_jit",
        "test_two_approvals_at_the_same_moment_launch_once",
        "test_two_workers_at_once_send_one_alert",
        "test_concurrent_campaigns_of_one_org_never_overspend",
        "test_two_promotional_campaigns_sent_at_once_never_go_past_the_cap",
        "test_a_worker_imports_an_uploaded_file_and_reports_progress_through_redis",
        "test_two_workers_at_once_send_one_summary",
        "test_concurrent_top_ups_both_count",
        "test_two_workers_together_keep_the_gateways_send_rate",
        "test_a_claimed_row_is_skipped_not_waited_for_on_postgresql",
        "test_two_flushers_running_at_once_store_every_click_once",
        "test_worker_sends_every_message_to_a_final_state",
        "test_a_worker_hands_over_a_test_sent_from_the_preview",
        "test_worker_killed_mid_campaign_then_every_message_is_sent_exactly_once",
        "test_while_the_replica_lags_reports_show_its_figures_and_say_how_old_they_are_then_catch_up",
        "test_with_the_replica_gone_reports_read_the_primary",
    },
    "redis": {
        "test_the_rate_is_counted_in_redis_when_it_is_configured",
        "test_click_goes_to_the_stream_not_the_database",
        "test_flush_crashing_after_insert_before_acknowledging_neither_drops_nor_double_counts",
        "test_flush_crashing_mid_batch_neither_drops_nor_double_counts",
        "test_two_flushers_reading_the_same_batch_store_it_once",
        "test_bad_entries_are_skipped_without_blocking_the_stream",
        "test_a_thousand_clicks_through_the_redirect_are_all_stored",
        "test_click_appended_before_its_code_failed_is_not_stored",
        "test_cached_click_costs_one_redis_round_trip_when_stream_and_cache_share_redis",
        "test_agent_with_a_nul_character_does_not_block_its_batch",
        "test_cached_click_reads_nothing_from_the_database",
        "test_a_worker_imports_an_uploaded_file_and_reports_progress_through_redis",
        "test_two_workers_together_keep_the_gateways_send_rate",
        "test_two_flushers_running_at_once_store_every_click_once",
        "test_worker_sends_every_message_to_a_final_state",
        "test_a_worker_hands_over_a_test_sent_from_the_preview",
        "test_worker_killed_mid_campaign_then_every_message_is_sent_exactly_once",
        "test_send_rate_is_shared_by_every_worker_through_redis",
    },
    "rabbitmq": {
        "test_worker_sends_every_message_to_a_final_state",
        "test_a_worker_hands_over_a_test_sent_from_the_preview",
        "test_worker_killed_mid_campaign_then_every_message_is_sent_exactly_once",
        "test_a_worker_killed_mid_dispatch_leaves_its_task_to_the_other_worker_at_once",
        "test_receipts_held_by_a_killed_worker_are_applied_by_the_other_at_once",
        "test_two_worker_processes_send_one_campaign_each_message_once_and_the_credits_exact",
    },
    "browser": {
        "test_manager_fills_a_list_from_a_search_and_edits_a_segment_in_the_browser",
        "test_support_confirms_before_switching_tracking_on",
        "test_manager_sees_the_template_error_in_place_then_previews_a_campaign",
        "test_a_test_still_being_handed_over_follows_its_outcome_on_the_preview",
        "test_manager_imports_segments_and_unsubscribes_in_the_browser",
        "test_manager_reads_why_messages_failed_and_downloads_them",
        "test_demo_manager_signs_in_and_sees_the_campaign",
        "test_the_pages_fit_a_phone_and_the_account_links_keep_together_on_a_laptop",
    },
}


# Collects the suite once (the markers are given at collection, tests/conftest.py) and prints each test's markers.
_LISTING = """
import json, pytest

class Listing:
    def pytest_collection_finish(self, session):
        self.markers = {item.nodeid: sorted({mark.name for mark in item.iter_markers()}) for item in session.items}

listing = Listing()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "tests"], plugins=[listing])
print("MARKERS " + json.dumps(listing.markers if code == 0 else None))
"""


@pytest.fixture(scope="module")
def markers_by_test() -> dict[str, list[str]]:
    """Each collected test's markers, by node id."""
    result = subprocess.run([sys.executable, "-c", _LISTING], cwd=ROOT, capture_output=True, text=True, timeout=300)
    listing = [line for line in result.stdout.splitlines() if line.startswith("MARKERS ")]
    assert result.returncode == 0 and listing, result.stdout + result.stderr
    found = json.loads(listing[-1].removeprefix("MARKERS "))
    assert found, result.stdout + result.stderr
    return found


@pytest.mark.parametrize("marker", sorted(KNOWN))
def test_every_test_known_to_need_a_service_carries_its_marker(marker, markers_by_test):
    # (`pytest -m <marker>` selects exactly the tests that carry it.)
    carrying = {node.split("::")[-1].split("[")[0] for node, names in markers_by_test.items() if marker in names}
    assert KNOWN[marker] <= carrying
