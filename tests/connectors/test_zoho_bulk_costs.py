"""The rule choosing a Zoho level's path: a bulk job only when it costs fewer credits AND less time."""

from records.connectors.zoho_bulk_costs import insert_choice, read_choice


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
