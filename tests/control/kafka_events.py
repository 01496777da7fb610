#!/usr/bin/env python3
"""The control plane's events through a real Kafka-protocol broker.

Starts tansu (a Kafka-compatible broker, built from crates.io by scripts/build-tansu.sh) on
loopback and `edgepack control` with `[control.events] sink = "kafka"`, makes state changes
for two accounts, and reads the topic back with kafka-python (PyPI), a Kafka client
independent of ours. Every record must be a CloudEvents 1.0 structured-mode Kafka message
for the CNCF CloudEvents SDK (`cloudevents.kafka.from_structured`), keyed by its account
(`partitionkey`), with each account's events in one partition and in order.

Then the broker is stopped: requests go on answering at once while events wait in the
bounded buffer, the overflow is dropped and counted, sink failures are counted; once a
broker is back on the same address, the buffered events reach it (at least once).

    python3 tests/control/kafka_events.py --bin target/debug/edgepack --tansu PATH

Exits non-zero, saying why, on the first failed check.
"""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cloudevents.kafka import KafkaMessage, from_structured
from kafka import KafkaConsumer, TopicPartition

API_KEY = "kafka-events-key-0123456789"
SECRET_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
TOPIC = "edgepack.control.events"
PARTITIONS = 3
BUFFER = 16
OUTAGE_EVENTS = 40


def fail(why):
    sys.exit("kafka-events: FAIL: " + why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    fail("%s within %d s" % (what, seconds))


class Broker:
    """tansu on 127.0.0.1:port, its storage in memory (a restart starts empty)."""

    def __init__(self, binary, port, logs):
        self.binary, self.port, self.logs = binary, port, logs
        self.proc = None

    def start(self):
        url = "tcp://127.0.0.1:%d" % self.port
        log = open(os.path.join(self.logs, "tansu-%d.log" % time.monotonic_ns()), "wb")
        self.proc = subprocess.Popen(
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                fail("tansu exited with %s (log in %s)" % (self.proc.returncode, self.logs))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_for("tansu listening on %d" % self.port, listening, 30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Plane:
    """`edgepack control` with its events going to the broker."""

    def __init__(self, binary, broker_port, tmp):
        config = os.path.join(tmp, "control.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("\n".join([
                "[control]", 'listen = "127.0.0.1:0"', 'data_dir = "%s"' % os.path.join(tmp, "data"),
                "[[control.api_keys]]", 'name = "tests"', 'key = "%s"' % API_KEY, 'scopes = ["*"]',
                "[control.events]", 'sink = "kafka"', 'brokers = ["127.0.0.1:%d"]' % broker_port,
                'topic = "%s"' % TOPIC, "partitions = %d" % PARTITIONS, "buffer = %d" % BUFFER,
                "[control.entitlement.signing]", 'kid = "kafka-events"', 'alg = "HS256"',
                'secret_hex = "%s"' % SECRET_HEX, ""]))
        self.out = open(os.path.join(tmp, "control.out"), "w+")
        self.proc = subprocess.Popen([binary, "control", "--config", config],
                                     stdout=self.out, stderr=open(os.path.join(tmp, "control.log"), "w"))

        def url():
            if self.proc.poll() is not None:
                fail("edgepack control exited with %s (logs in %s)" % (self.proc.returncode, tmp))
            self.out.seek(0)
            m = re.search(r"edgepack control listening on (http://\S+)", self.out.read())
            return m and m.group(1)
        self.url = wait_for("edgepack control listening", url, 30)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        if status >= 300:
            fail("%s %s answered %d: %s" % (method, path, status, answer))
        return answer

    def metric(self, name):
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
        return int(m.group(1)) if m else fail("no %s in /metrics" % name)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def read_topic(port, expected, seconds=30):
    """Every record of the topic, once `expected` of them are there (or the time is up)."""
    consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:%d" % port, group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        parts = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        records = []
        deadline = time.monotonic() + seconds
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def event_of(record):
    """The record as a CloudEvent, read by the CNCF SDK; fails on anything else."""
    headers = {k: v for k, v in (record.headers or [])}
    if not headers.get("content-type", b"").startswith(b"application/cloudevents+json"):
        raise ValueError("content-type %r is not structured CloudEvents" % headers.get("content-type"))
    event = from_structured(KafkaMessage(headers=headers, key=record.key, value=record.value))
    attributes = event.get_attributes()
    if attributes.get("specversion") != "1.0":
        raise ValueError("specversion %r" % attributes.get("specversion"))
    for required in ("id", "source", "type", "time", "partitionkey"):
        if not attributes.get(required):
            raise ValueError("no %s" % required)
    if record.key is None or record.key.decode() != attributes["partitionkey"]:
        raise ValueError("key %r is not the partitionkey %r" % (record.key, attributes["partitionkey"]))
    return attributes, event.get_data()


def check_records(records):
    """Each record an event; one account's events in one partition, in order."""
    by_account = collections.defaultdict(list)
    for r in records:
        try:
            attributes, _ = event_of(r)
        except Exception as e:  # the SDK raises several kinds; all mean "not an event"
            fail("partition %d offset %d is not a CloudEvent: %s" % (r.partition, r.offset, e))
        by_account[attributes["partitionkey"]].append((r.partition, r.offset, attributes))
    for account, events in by_account.items():
        partitions = {p for p, _, _ in events}
        if len(partitions) != 1:
            fail("account %s's events are spread over partitions %s" % (account, sorted(partitions)))
        times = [a["time"] for _, _, a in sorted(events, key=lambda e: e[1])]
        if times != sorted(times):
            fail("account %s's events are out of order: %s" % (account, times))
    return by_account


def negative_control(record):
    """The check refuses a record that is not a structured CloudEvent: it can fail."""
    tampered = type("Tampered", (), {})()
    tampered.headers = [("content-type", b"application/json")]
    tampered.key, tampered.value = record.key, record.value
    tampered.partition, tampered.offset = record.partition, record.offset
    try:
        event_of(tampered)
    except ValueError:
        pass
    else:
        fail("a record without the CloudEvents content type passed the check")
    wrong_key = type("WrongKey", (), {})()
    wrong_key.headers, wrong_key.key, wrong_key.value = record.headers, b"someone-else", record.value
    try:
        event_of(wrong_key)
    except ValueError:
        pass
    else:
        fail("a record keyed by another account passed the check")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tansu", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kafka-events.")
    broker = Broker(os.path.abspath(args.tansu), free_port(), tmp)
    broker.start()
    plane = None
    try:
        plane = Plane(os.path.abspath(args.bin), broker.port, tmp)
        plane.ok("PUT", "/v1/products/basic", {"name": "Basic", "max_streams": 4})
        plane.ok("PUT", "/v1/assets/demo", {"title": "Demo", "products": ["basic"]})
        for account in ("acct-a", "acct-b"):
            plane.ok("PUT", "/v1/grants/g-" + account,
                     {"account": account, "product": "basic", "source": "manual"})
            for device in ("tv", "phone"):
                session = plane.ok("POST", "/v1/playback-sessions",
                                   {"account": account, "device": device, "asset": "demo"})
            plane.ok("DELETE", "/v1/playback-sessions/%s" % session["id"])
        published = plane.metric("edgepack_control_events_published_total")
        wait_for("every event delivered to the broker",
                 lambda: plane.metric("edgepack_control_events_delivered_total") >= published, 30)
        records = read_topic(broker.port, published)
        if len(records) < published:
            fail("%d events published, %d records in the topic" % (published, len(records)))
        by_account = check_records(records)
        for account in ("acct-a", "acct-b"):
            kinds = collections.Counter(a["type"] for _, _, a in by_account.get(account, []))
            if kinds[next((k for k in kinds if "session.started" in k), "")] < 2 or \
                    not any("session.ended" in k for k in kinds) or not any("grant" in k for k in kinds):
                fail("account %s: grant, 2 sessions started and 1 ended expected, got %s" % (account, dict(kinds)))
        negative_control(records[0])
        print("kafka-events: %d records, %d accounts, each in one partition and in order"
              % (len(records), len(by_account)))

        # The broker goes away: requests still answer at once, events wait, then overflow.
        broker.stop()
        failures = plane.metric("edgepack_control_event_sink_failures_total")
        dropped = plane.metric("edgepack_control_events_dropped_total")
        slowest = 0.0
        for n in range(OUTAGE_EVENTS):
            started = time.monotonic()
            plane.ok("PUT", "/v1/grants/outage-%02d" % n,
                     {"account": "acct-c", "product": "basic", "source": "manual"})
            slowest = max(slowest, time.monotonic() - started)
        if slowest > 1.0:
            fail("a request took %.2f s while the broker was down" % slowest)
        dropped = plane.metric("edgepack_control_events_dropped_total") - dropped
        if not OUTAGE_EVENTS - BUFFER - 8 <= dropped <= OUTAGE_EVENTS - BUFFER:
            fail("%d events dropped; with a buffer of %d, about %d expected"
                 % (dropped, BUFFER, OUTAGE_EVENTS - BUFFER - 1))
        wait_for("sink failures counted",
                 lambda: plane.metric("edgepack_control_event_sink_failures_total") > failures, 30)
        print("kafka-events: broker down: slowest request %.0f ms, %d of %d events dropped, failures counted"
              % (slowest * 1000, dropped, OUTAGE_EVENTS))

        # A broker is back (empty: memory storage): the buffered events reach it. The count
        # is read before it starts: the sink may deliver the moment it can.
        kept = OUTAGE_EVENTS - dropped
        delivered_before = plane.metric("edgepack_control_events_delivered_total")
        broker.start()
        wait_for("the buffered events delivered",
                 lambda: plane.metric("edgepack_control_events_delivered_total") >= delivered_before + kept, 60)
        records = read_topic(broker.port, kept)
        by_account = check_records(records)
        grants = sorted({a["subject"] for _, _, a in by_account.get("acct-c", [])})
        expected = ["outage-%02d" % n for n in range(kept)]
        if len(records) < kept or grants != expected:
            fail("after the outage the topic holds %s; the first %d outage grants expected"
                 % (grants, kept))
        print("kafka-events: broker back: the %d buffered events delivered, in order" % kept)
    finally:
        if plane:
            plane.stop()
        broker.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    print("kafka-events: ok")


if __name__ == "__main__":
    main()
