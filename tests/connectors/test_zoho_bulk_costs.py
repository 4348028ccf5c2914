"""The rule choosing a Zoho level's path: a bulk job only when it costs fewer credits AND less time."""

import pytest

from records.connectors.zoho_bulk_costs import BulkReadTerms, insert_choice, read_choice


def test_a_small_level_takes_coql_and_inserts():
    read = read_choice(40, 1, latency=0.2, concurrency=5)
    write = insert_choice(40, latency=0.2, concurrency=5)
    assert read.path == write.path == "api"
    assert read.api_credits == 3 and write.api_credits == 4
    assert "Bulk Read would cost 53 credits for 40 records" in read.why
    assert write.why.startswith("inserts of 100 (4 credits, about 0 s): Bulk Write would cost 503 credits")


def test_a_read_of_3000_stays_on_coql_cheaper_in_credits():
    choice = read_choice(3000, 1, latency=0.2, concurrency=5)
    assert choice.path == "api" and choice.api_credits == 6 < choice.bulk_credits


def test_25000_inserts_one_at_a_time_take_bulk_write_cheaper_and_faster():
    choice = insert_choice(25_000, latency=0.2, concurrency=1)
    assert choice.path == "bulk"
    assert choice.bulk_credits < choice.api_credits == 2500
    assert choice.bulk_seconds < choice.api_seconds == 50
    assert choice.why.startswith("Bulk Write: 503 credits and about 23 s against 2,500 credits and 50 s")


def test_cheaper_but_slower_keeps_the_inserts():
    choice = insert_choice(25_000, latency=0.2, concurrency=10)
    assert choice.bulk_credits < choice.api_credits and choice.bulk_seconds > choice.api_seconds
    assert choice.path == "api" and "Bulk Write would take about 23 s for 25,000 records" in choice.why


def test_tens_of_thousands_under_one_parent_take_bulk_read_cheaper_and_faster():
    # COQL: 3 credits and about 2.2 s a page of 2,000, one page after another; a job: 53 credits.
    assert read_choice(30_000, 1, latency=0.2, concurrency=5).path == "api"  # 45 credits < 53
    choice = read_choice(50_000, 1, latency=0.2, concurrency=5)
    assert choice.path == "bulk" and (choice.api_credits, choice.bulk_credits) == (75, 53)
    assert choice.bulk_seconds < choice.api_seconds == pytest.approx(55)


def test_the_bulk_read_terms_are_one_value_a_caller_can_lower():
    cheap = BulkReadTerms(credits=1, job_seconds=0.0)
    assert read_choice(3000, 1, latency=0.2, concurrency=5, terms=cheap).path == "bulk"
