//! The store conformance suite: every case runs once against SQLite (a file in a temporary
//! directory) and once against PostgreSQL (a fresh database on the server named by
//! `FERROBOT_TEST_DATABASE_URL`; without it the PostgreSQL half fails, it never skips).

mod builds;
mod buildsets;
mod changes;
mod fencing;
mod fixtures;
mod harness;
mod listing;
mod logs;
mod masters;
mod open;
mod outbox;
mod services;
mod workers;

/// Instantiates each `module::case` as a test in `sqlite::` and in `postgres::`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::harness::run_sqlite(crate::$module::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::harness::run_postgres(crate::$module::$case).await;
                }
            )*
        }
    };
}

conformance! {
    masters::masters_are_found_by_name_and_start_inactive,
    masters::master_activity_reports_only_real_flips,
    masters::a_stopped_master_no_longer_runs_schedulers,
    masters::builders_carry_description_tags_and_masters,
    workers::workers_show_their_connections_and_info,
    workers::workers_are_configured_on_their_masters_builders,
    workers::workers_can_be_paused_and_drained,
    changes::added_changes_come_back_whole,
    changes::changes_link_to_the_previous_change_on_their_branch,
    changes::identical_source_stamps_are_stored_once,
    changes::changes_are_listed_newest_first,
    changes::a_builds_changes_are_those_of_its_source_stamps,
    services::schedulers_start_enabled_and_record_their_master,
    services::classified_changes_stay_until_flushed,
    services::change_sources_record_their_master,
    services::object_state_round_trips,
    buildsets::buildsets_store_requests_properties_and_stamps,
    buildsets::buildsets_are_listed_newest_first_by_completion,
    buildsets::racing_masters_claim_each_request_exactly_once,
    buildsets::complete_or_claimed_requests_cannot_be_claimed,
    buildsets::unclaiming_releases_only_this_masters_claims,
    buildsets::completing_requests_skips_finished_ones_and_refuses_retry,
    buildsets::buildsets_complete_once_with_the_worst_result,
    buildsets::build_requests_filter_by_builder_set_and_state,
    buildsets::only_pending_requests_change_priority,
    fencing::writes_under_another_epoch_or_master_are_fenced,
    fencing::released_work_ends_retry_and_fences_the_old_claimant,
    fencing::four_claimers_race_over_a_thousand_requests_without_a_double_claim,
    builds::build_numbers_count_from_one_per_builder,
    builds::concurrent_builds_get_distinct_numbers,
    builds::builds_filter_and_list_the_newest_ascending,
    builds::finished_builds_show_results_and_state,
    builds::build_properties_are_set_and_replaced,
    builds::steps_number_from_zero_with_unique_names,
    builds::steps_start_link_and_finish,
    logs::log_slugs_are_unique_within_a_step,
    logs::appended_lines_are_numbered_and_read_back,
    logs::overlong_lines_are_split_never_truncated,
    logs::log_chunks_are_compressed_when_it_pays,
    logs::appending_to_an_unknown_log_is_not_found,
    listing::builds_are_paged_ordered_and_counted_by_the_database,
    listing::changes_are_listed_with_the_engines_null_rules,
    listing::build_requests_are_paged_and_counted_by_the_database,
    listing::state_created_once_keeps_the_first_value,
    open::unsupported_urls_are_refused_by_name,
    open::reopening_keeps_the_data,
    open::upgrading_an_up_to_date_database_changes_nothing,
    outbox::reports_are_recorded_once_per_build_and_event,
    outbox::racing_masters_claim_each_report_exactly_once,
    outbox::claims_lapse_with_their_master_or_their_expiry,
    outbox::failed_attempts_wait_for_their_backoff_then_fail_for_good,
    outbox::a_builds_end_waits_for_its_start_to_be_reported,
}
