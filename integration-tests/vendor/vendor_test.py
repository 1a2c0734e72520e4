"""A county's year as a vendor calls it: Python stubs generated from proto/ and nothing else.

Starts the real `medpay up` with anonymous calls refused and two API keys (the bureau's, which
configures and runs; the county agency's, which submits and reads), then registers a hospital,
puts a points table with every payment mode typed (and a broken one, answered with its field) and
activates it, puts a settlement policy typed and reads it back typed and as JSON, submits four
stays of four modes and one bad record (one stay as JSON, the others typed with the generated
messages), reads the valuation and the lists back typed, prepays March, clears the year and
checks the
statements against figures computed here by hand with decimal.Decimal. The valuations and the
statements are read typed too, each held member for member against its JSON form. Last, the
resident fund's budget is created from a typed document and read back typed.

The stays and table are those of integration-tests/tests/end_to_end/every_mode.rs; the figures
are derived again here from the table and the lists, not copied from the Rust test, so a
server and a stub that agree with each other but not with the rules still fail.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from decimal import ROUND_HALF_UP, Decimal

REGION = "460108"
HOSPITAL = "H46010801"
BUREAU_KEY = "vendor-bureau-key-0001"
COUNTY_KEY = "vendor-county-key-0001"

CONFIG = f"""
[telemetry]
log_filter = "warn"

[auth]
allow_anonymous = false

[[auth.api_keys]]
key = "{BUREAU_KEY}"
caller_id = "bureau"
scopes = ["460000"]
roles = ["configure", "run", "read"]

[[auth.api_keys]]
key = "{COUNTY_KEY}"
caller_id = "meilan-agency"
scopes = ["{REGION}"]
roles = ["submit", "read"]
"""

# The table: DRG groups (GD15 100 base points), the hospital's coefficient 1.05, rehabilitation
# per diem 300 a day at level 3A, appendectomy (47.01) as day surgery at 8,000.
BASE_POINTS_GD15 = Decimal("100")
COEFFICIENT = Decimal("1.05")
REHABILITATION_DAILY = Decimal("300")
DAY_SURGERY_PRICE = Decimal("8000")
TABLE = {
    "policy": {
        "region": REGION, "year": 2025, "fund_type": "310", "main_method": "drg",
        "modes": {"day_surgery": {"procedure_codes": ["47.01"]}},
    },
    "tables": {
        "region": REGION,
        "year": 2025,
        "fund_type": "310",
        "drg": {
            "all_case_mean_cost": "10000",
            "groups": {
                "GD15": {"mean_cost": "12000", "base_points": str(BASE_POINTS_GD15)},
                "GD13": {"mean_cost": "15000", "base_points": "150"},
            },
        },
        "coefficients": {
            "drg_by_hospital": {
                HOSPITAL: {
                    "all_groups": [{"coefficient": str(COEFFICIENT),
                                    "effective_from": "2025-01-01"}],
                },
            },
        },
        "per_diem": {
            "programmes": {
                "rehabilitation": [{"name": "all",
                                    "daily_rates": {"3A": str(REHABILITATION_DAILY)}}],
            },
        },
        "day_surgery": {"prices": {"47.01": str(DAY_SURGERY_PRICE)}},
    },
}

# Every stay costs 12,000: the fund 9,000, the personal account 1,000 and cash 2,000.
TOTAL = Decimal("12000.00")
FUND_PAID = Decimal("9000.00")
BURDEN = Decimal("3000.00")

# (list id, admitted, discharged, diagnoses, procedure, expected mode)
STAYS = [
    # Four days: past the 48 hours of day surgery, so a DRG case (GD15).
    ("S0", "2025-03-01 08:30", "2025-03-05 10:00", ["K35.800"], "47.0100", "drg"),
    # 32.5 hours: day surgery.
    ("S1", "2025-03-10 08:30", "2025-03-11 17:00", ["K35.800"], "47.0100", "day_surgery"),
    # 73 days: excluded from the DRG, paid its claim.
    ("S2", "2025-01-01 08:30", "2025-03-15 10:00", ["K35.800"], "47.0200", "fee_for_service"),
    # Twenty days of rehabilitation, paid per diem.
    ("S3", "2025-04-01 08:30", "2025-04-21 10:00", ["Z50.100"], "93.3900",
     "per_diem_rehabilitation"),
]

PROVISIONAL_POINT_VALUE = Decimal("800")
# The settlement policy, put typed: 85 % of March's value prepaid, 2 % of it withheld.
PREPAYMENT_RATIO = Decimal("0.85")
QUALITY_DEPOSIT = Decimal("0.02")
DISTRIBUTABLE_BUDGET = Decimal("100000.00")

FEN = Decimal("0.01")
POINT_PLACES = Decimal("0.0001")


def typed_table(documents, common, fund_type):
    """TABLE written with the generated messages, field for field."""
    policy, tables = TABLE["policy"], TABLE["tables"]
    drg = tables["drg"]
    document = documents.PointsTableDocument(
        policy=documents.PointsPolicy(
            region=policy["region"], year=policy["year"], fund_type=fund_type,
            main_method=policy["main_method"],
            modes=documents.PointsModeRules(day_surgery=documents.PointsDaySurgeryRule(
                procedure_codes=policy["modes"]["day_surgery"]["procedure_codes"]))),
        tables=documents.PointsTables(
            region=tables["region"], year=tables["year"], fund_type=fund_type,
            drg=documents.TableDrg(
                all_case_mean_cost=common.Money(yuan=drg["all_case_mean_cost"]))))
    typed = document.tables
    for code, group in drg["groups"].items():
        typed.drg.groups[code].mean_cost.yuan = group["mean_cost"]
        typed.drg.groups[code].base_points.value = group["base_points"]
    for hospital, rows in tables["coefficients"]["drg_by_hospital"].items():
        for row in rows["all_groups"]:
            year, month, day = (int(part) for part in row["effective_from"].split("-"))
            typed.coefficients.drg_by_hospital[hospital].all_groups.add(
                coefficient=common.Decimal(value=row["coefficient"]),
                effective_from=common.Date(year=year, month=month, day=day))
    for programme, phases in tables["per_diem"]["programmes"].items():
        for phase in phases:
            added = typed.per_diem.programmes[programme].phases.add(name=phase["name"])
            for level, rate in phase["daily_rates"].items():
                added.daily_rates[level].yuan = rate
    for code, price in tables["day_surgery"]["prices"].items():
        typed.day_surgery.prices[code].yuan = price
    return document


def fen(value):
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def four_places(value):
    return value.quantize(POINT_PLACES, rounding=ROUND_HALF_UP)


def settlement_list(list_id, admitted, discharged, diagnoses, procedure, sex=2):
    """A settlement list of the hospital in Meilan district, national field names."""
    return json.dumps({
        "header": {
            "setl_id": list_id, "fixmedins_code": HOSPITAL, "hospital_level": "3A",
            "insutype": 310, "psn_no": "P1", "case_number": "BA" + list_id[1:],
            "declared_at": discharged[:10] + " 18:00:00", "pooling_region": REGION,
        },
        "patient": {"sex": sex, "birth_date": "1990-03-01", "age_years": 35},
        "stay": {
            "med_type": "21", "admission_route": "2", "admitted_at": admitted,
            "admission_department": "general_surgery", "discharged_at": discharged,
            "discharge_department": "general_surgery", "discharge_type": 1,
        },
        "diagnoses": [{"code": code, "name": "diagnosis", "admission_condition": 1}
                      for code in diagnoses],
        "procedures": [{"code": procedure, "name": "procedure", "date": admitted[:10]}],
        "charges": [{"category": "surgery", "amount": str(TOTAL)}],
        "payment": {
            "medfee_sumamt": str(TOTAL), "hifp_pay": str(FUND_PAID),
            "acct_pay": "1000.00", "psn_cash_pay": "2000.00",
        },
    })


def typed_settlement_list(lists, common, list_id, admitted, discharged, diagnoses, procedure,
                          sex=2):
    """The list of settlement_list() built with the generated messages: the typed form."""
    def day(text):
        return common.Date(year=int(text[:4]), month=int(text[5:7]), day=int(text[8:10]))

    def at(text):
        return lists.LocalDateTime(date=day(text), hour=int(text[11:13]),
                                   minute=int(text[14:16]))

    def money(value):
        return common.Money(yuan=str(value))

    return lists.SettlementList(
        header=lists.ListHeader(
            setl_id=list_id, fixmedins_code=HOSPITAL, hospital_level="3A",
            insutype=common.FUND_TYPE_EMPLOYEE, psn_no="P1", case_number="BA" + list_id[1:],
            declared_at=at(discharged[:10] + " 18:00"), pooling_region=REGION),
        patient=lists.Patient(sex=sex, birth_date=day("1990-03-01"), age_years=35),
        stay=lists.Stay(
            med_type="21", admission_route="2", admitted_at=at(admitted),
            admission_department="general_surgery", discharged_at=at(discharged),
            discharge_department="general_surgery", discharge_type=1),
        diagnoses=[lists.Diagnosis(code=code, name="diagnosis", admission_condition=1)
                   for code in diagnoses],
        procedures=[lists.Procedure(code=procedure, name="procedure", date=day(admitted))],
        charges=[lists.CategoryCharge(category=lists.CHARGE_CATEGORY_SURGERY,
                                      amount=money(TOTAL))],
        payment=lists.SettlementPayment(
            medfee_sumamt=money(TOTAL), hifp_pay=money(FUND_PAID),
            acct_pay=money("1000.00"), psn_cash_pay=money("2000.00")),
    )


def typed_as_json(message):
    """A typed message as the JSON its contract says it equals, read through the message's own
    descriptor: Decimal and Money as their text, an unset message as null, a list as a list."""
    def value_of(field_message):
        name = field_message.DESCRIPTOR.full_name
        if name == "medpay.common.v1.Decimal":
            return field_message.value
        if name == "medpay.common.v1.Money":
            return field_message.yuan
        return typed_as_json(field_message)

    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is None:
            out[field.name] = list(value) if is_repeated(field) else value
        elif is_repeated(field):
            out[field.name] = [value_of(item) for item in value]
        elif message.HasField(field.name):
            out[field.name] = value_of(value)
        else:
            out[field.name] = None
    return out


def is_repeated(field):
    # protobuf 5+ names it on the field; older runtimes only give the label.
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == field.LABEL_REPEATED


def flatten_decision(breakdown):
    """The breakdown's JSON `decision` as the typed message names it: `mode` (a per-diem stay's
    mode is the object {"per_diem": programme}), `per_diem_programme` and `rule`."""
    if not isinstance(breakdown, dict) or "decision" not in breakdown:
        return breakdown
    flat = dict(breakdown)
    decision = flat.pop("decision")
    mode = decision.get("mode")
    if isinstance(mode, dict):
        ((mode, programme),) = mode.items()
    else:
        programme = ""
    flat.update(mode=mode, per_diem_programme=programme, rule=decision.get("rule", ""))
    return flat


def same_decimal(typed, stored):
    """Money and points are compared as decimals: the typed text has its fixed places ("0.00")
    where the JSON may write a zero as "0"."""
    try:
        return isinstance(typed, str) and isinstance(stored, str) and \
            Decimal(typed) == Decimal(stored)
    except ArithmeticError:
        return False


def differences(typed, stored, path=""):
    """Where a typed message (as typed_as_json gives it) and its JSON differ. A member the JSON
    leaves out or writes null equals an unset message, an empty text or an empty list."""
    found = []
    for key in sorted(set(typed) | set(stored)):
        where = f"{path}{key}"
        if key not in typed:
            found.append(f"{where}: in the JSON only")
            continue
        t, j = typed[key], stored.get(key)
        if isinstance(t, dict) and isinstance(j, dict):
            found.extend(differences(t, j, where + "."))
        elif isinstance(t, list) and isinstance(j, list) and len(t) == len(j):
            for n, (ti, ji) in enumerate(zip(t, j)):
                if isinstance(ti, dict) and isinstance(ji, dict):
                    found.extend(differences(ti, ji, f"{where}[{n}]."))
                elif ti != ji and not same_decimal(ti, ji):
                    found.append(f"{where}[{n}]: typed {ti!r}, JSON {ji!r}")
        elif t != j and not (j is None and t in (None, "", [])) and not same_decimal(t, j):
            found.append(f"{where}: typed {t!r}, JSON {j!r}")
    return found


def days_of(admitted, discharged):
    parse = datetime.datetime.strptime
    return (parse(discharged[:10], "%Y-%m-%d") - parse(admitted[:10], "%Y-%m-%d")).days


class Checks:
    """Counts checks; a mismatch is reported and counted, and the run goes on."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def equal(self, what, actual, expected):
        if actual == expected:
            self.passed += 1
            print(f"  ok   {what}: {actual}")
        else:
            self.failed += 1
            print(f"  FAIL {what}: got {actual!r}, expected {expected!r}")

    def true(self, what, condition, detail=""):
        self.equal(what + (f" ({detail})" if detail else ""), bool(condition), True)


class Server:
    """`medpay up` on a port of its own choosing, in a data folder of the test's."""

    def __init__(self, binary, data):
        os.makedirs(data, exist_ok=True)
        config = os.path.join(data, "medpay.toml")
        with open(config, "w", encoding="utf-8") as file:
            file.write(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDPAY__")}
        self.process = subprocess.Popen(
            [binary, "--config", config, "up", "--listen", "127.0.0.1:0",
             "--data", os.path.join(data, "data")],
            cwd=data, env=env, stdout=subprocess.PIPE, text=True)
        self.address = None
        found = threading.Event()

        def read_stdout():
            for line in self.process.stdout:
                if line.startswith("medpay listening on "):
                    self.address = line.removeprefix("medpay listening on ").strip()
                    found.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        deadline = time.monotonic() + 60
        while not found.wait(0.1):
            if self.process.poll() is not None:
                raise RuntimeError(f"medpay exited with {self.process.returncode} before serving")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("medpay did not print its address within 60 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def as_caller(key):
    return (("authorization", f"Bearer {key}"),)


def run(binary, data, checks):
    import grpc
    from medpay.budget.v1 import budget_document_pb2 as budget_document
    from medpay.budget.v1 import budget_pb2 as budget_pb
    from medpay.budget.v1 import budget_pb2_grpc as budget_grpc
    from medpay.common.v1 import common_pb2 as common
    from medpay.points.v1 import points_pb2 as points
    from medpay.points.v1 import points_pb2_grpc as points_grpc
    from medpay.points.v1 import table_document_pb2 as table_document
    from medpay.settlement.v1 import lists_pb2 as lists
    from medpay.settlement.v1 import policy_pb2 as policy_pb
    from medpay.settlement.v1 import runs_pb2 as runs
    from medpay.settlement.v1 import runs_pb2_grpc as runs_grpc
    from medpay.settlement.v1 import settlement_pb2 as settlement
    from medpay.settlement.v1 import settlement_pb2_grpc as settlement_grpc

    bureau = as_caller(BUREAU_KEY)
    county = as_caller(COUNTY_KEY)
    employee = common.FUND_TYPE_EMPLOYEE

    server = Server(binary, data)
    try:
        channel = grpc.insecure_channel(server.address)
        grpc.channel_ready_future(channel).result(timeout=30)
        intake = settlement_grpc.SettlementServiceStub(channel)
        tables = points_grpc.PointsServiceStub(channel)
        run_service = runs_grpc.SettlementRunServiceStub(channel)

        print("authentication")
        try:
            intake.ListCases(settlement.ListCasesRequest(region_code=REGION))
            checks.true("a call without a key is refused", False)
        except grpc.RpcError as error:
            checks.equal("a call without a key", error.code(), grpc.StatusCode.UNAUTHENTICATED)
        try:
            run_service.RunClearing(runs.RunClearingRequest(
                request_id="county-clearing", region_code=REGION, year=2025,
                fund_type=employee,
                distributable_budget=common.Money(yuan=str(DISTRIBUTABLE_BUDGET))),
                metadata=county)
            checks.true("the county key may not clear", False)
        except grpc.RpcError as error:
            checks.equal("the county key clearing", error.code(),
                         grpc.StatusCode.PERMISSION_DENIED)

        print("registry and points table")
        intake.PutInstitution(settlement.PutInstitutionRequest(
            request_id=f"institution-{HOSPITAL}",
            institution=settlement.Institution(
                code=HOSPITAL, name="Meilan General", region_code=REGION, level="3A",
                institution_type="general"),
            effective_from=common.Date(year=2020, month=1, day=1)), metadata=bureau)
        agreements = intake.PutAgreement(settlement.PutAgreementRequest(
            request_id=f"agreement-{HOSPITAL}-2025", region_code=REGION,
            institution_code=HOSPITAL,
            agreement=settlement.Agreement(
                agreement_id="2025", valid_from=common.Date(year=2025, month=1, day=1),
                valid_to=common.Date(year=2025, month=12, day=31), status="active"),
            reason="annual agreement"), metadata=bureau).agreements
        checks.equal("agreements", [a.agreement_id for a in agreements], ["2025"])
        # A table whose base points are unreadable is refused with the field's path.
        broken = typed_table(table_document, common, employee)
        broken.tables.drg.groups["GD15"].base_points.value = "one hundred"
        try:
            tables.PutTable(points.PutTableRequest(
                request_id="table-2025-broken", region_code=REGION, year=2025,
                fund_type=employee, document=broken), metadata=bureau)
            checks.true("a broken typed table is refused", False)
        except grpc.RpcError as error:
            checks.equal("a broken typed table", error.code(), grpc.StatusCode.INVALID_ARGUMENT)
            checks.true("the broken field is named",
                        "document.tables.drg.groups.GD15.base_points" in error.details(),
                        error.details())
        # The table typed; the JSON form stored must be TABLE's, member for member.
        table = tables.PutTable(points.PutTableRequest(
            request_id="table-2025", region_code=REGION, year=2025, fund_type=employee,
            document=typed_table(table_document, common, employee)), metadata=bureau).table
        stored = json.loads(table.document_json)
        checks.equal("typed table stored: GD15 base points, GD13 mean cost",
                     (Decimal(stored["tables"]["drg"]["groups"]["GD15"]["base_points"]),
                      Decimal(stored["tables"]["drg"]["groups"]["GD13"]["mean_cost"])),
                     (BASE_POINTS_GD15, Decimal("15000")))
        checks.equal("typed table stored: day surgery and rehabilitation",
                     (stored["policy"]["modes"]["day_surgery"]["procedure_codes"],
                      Decimal(stored["tables"]["day_surgery"]["prices"]["47.01"]),
                      Decimal(stored["tables"]["per_diem"]["programmes"]["rehabilitation"][0]
                              ["daily_rates"]["3A"])),
                     (["47.01"], DAY_SURGERY_PRICE, REHABILITATION_DAILY))
        read_back = table.document
        checks.equal("typed table read back: method, coefficient, default DIP level of 2A",
                     (read_back.policy.main_method,
                      Decimal(read_back.tables.coefficients.drg_by_hospital[HOSPITAL]
                              .all_groups[0].coefficient.value),
                      Decimal(read_back.tables.coefficients.dip_levels.levels["2A"].value)),
                     ("drg", COEFFICIENT, Decimal("1.05")))
        tables.ActivateTable(points.ActivateTableRequest(
            request_id="table-2025-active", region_code=REGION, year=2025, fund_type=employee,
            version=table.version, effective_from=common.Date(year=2025, month=1, day=1)),
            metadata=bureau)

        print("settlement policy")
        policy = runs.PutSettlementPolicyRequest(
            request_id="policy-2025", region_code=REGION, year=2025, fund_type=employee,
            reason="county prepayment ratio",
            policy=policy_pb.SettlementPolicy(prepayment=policy_pb.PolicyPrepayment(
                prepayment_ratio=common.Decimal(value=str(PREPAYMENT_RATIO)),
                quality_deposit_rate=common.Decimal(value=str(QUALITY_DEPOSIT)))))
        both = runs.PutSettlementPolicyRequest()
        both.CopyFrom(policy)
        both.policy_json = "{}"
        try:
            run_service.PutSettlementPolicy(both, metadata=bureau)
            checks.true("a policy given twice is refused", False)
        except grpc.RpcError as error:
            checks.equal("a policy given twice", error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        checks.equal("policy version",
                     run_service.PutSettlementPolicy(policy, metadata=bureau).version, 1)
        in_force = run_service.GetSettlementPolicy(runs.GetSettlementPolicyRequest(
            region_code=REGION, year=2025, fund_type=employee), metadata=county)
        as_json = json.loads(in_force.policy_json)
        typed = in_force.policy
        checks.equal("policy read typed: ratio, deposit, sharing, readmission window",
                     (Decimal(typed.prepayment.prepayment_ratio.value),
                      Decimal(typed.prepayment.quality_deposit_rate.value),
                      typed.clearing.sharing, typed.readmission.window_days),
                     (PREPAYMENT_RATIO, QUALITY_DEPOSIT, "pay_standard", 15))
        checks.equal("policy typed against its JSON",
                     (Decimal(as_json["prepayment"]["prepayment_ratio"]),
                      as_json["clearing"]["sharing"],
                      list(typed.validation.discharge_types.codes),
                      [w.value for w in typed.budget_point_value.history_weights.weights]),
                     (Decimal(typed.prepayment.prepayment_ratio.value),
                      typed.clearing.sharing,
                      as_json["validation"]["discharge_types"],
                      as_json["budget_point_value"]["history_weights"]))

        print("intake")
        # The first stay as JSON, the others and the bad record typed: both forms in one upload.
        bad = typed_settlement_list(lists, common, "S9", "2025-03-20 08:30", "2025-03-24 10:00",
                                    ["K35.800"], "47.0100", sex=3)
        records = [settlement.SubmitRecord(settlement_list_json=settlement_list(*STAYS[0][:5]))]
        records += [settlement.SubmitRecord(
            settlement_list=typed_settlement_list(lists, common, *stay[:5]))
            for stay in STAYS[1:]]
        records.append(settlement.SubmitRecord(settlement_list=bad))

        def upload():
            for position, record in enumerate(records):
                yield settlement.SubmitCasesRequest(
                    request_id="vendor-upload-1" if position == 0 else "",
                    region_code=REGION, record=record)

        outcome = intake.SubmitCases(upload(), metadata=county).outcome
        checks.equal("accepted, rejected", (outcome.accepted, outcome.rejected),
                     (len(STAYS), 1))
        rejection = [(r.position, r.list_id, r.field) for r in outcome.rejections]
        checks.equal("the bad record answered with its field", rejection,
                     [(len(STAYS), "S9", "patient.sex")])
        checks.true("the rejection has a code and a reason",
                    all(r.code and r.reason for r in outcome.rejections),
                    "; ".join(f"{r.code}: {r.reason}" for r in outcome.rejections))

        cases = intake.ListCases(settlement.ListCasesRequest(region_code=REGION),
                                 metadata=county).cases
        by_list = {case.list_id: case for case in cases}
        checks.equal("listed cases", sorted(by_list), [stay[0] for stay in STAYS])
        for list_id, *_, mode in STAYS:
            case = by_list.get(list_id)
            checks.equal(f"{list_id} payment mode", case and case.payment_mode, mode)
            checks.equal(f"{list_id} status", case and case.status, "valued")
        drg_points = BASE_POINTS_GD15 * COEFFICIENT
        drg_case = by_list.get("S0")
        checks.equal("S0 group", drg_case and drg_case.group_code, "GD15")
        checks.equal("S0 points", drg_case and Decimal(drg_case.points.value), drg_points)
        checks.equal("S0 burden", drg_case and Decimal(drg_case.individual_burden.yuan), BURDEN)
        versions = intake.GetCase(settlement.GetCaseRequest(
            region_code=REGION, hospital_code=HOSPITAL, list_id="S0"),
            metadata=county).versions
        valuation = json.loads(versions[-1].valuation_json) if versions else {}
        # Read back typed, whichever form the list was sent in.
        s0 = versions[-1].settlement_list if versions else lists.SettlementList()
        checks.equal("S0 (sent as JSON) read typed: id, fund, total",
                     (s0.header.setl_id, s0.header.insutype, s0.payment.medfee_sumamt.yuan),
                     ("S0", common.FUND_TYPE_EMPLOYEE, "12000.00"))
        s3 = intake.GetCase(settlement.GetCaseRequest(
            region_code=REGION, hospital_code=HOSPITAL, list_id="S3"),
            metadata=county).versions[-1]
        discharged = s3.settlement_list.stay.discharged_at
        checks.equal("S3 (sent typed) read typed: discharge, principal diagnosis",
                     ((discharged.date.year, discharged.date.month, discharged.date.day,
                       discharged.hour, discharged.minute),
                      [d.code for d in s3.settlement_list.diagnoses]),
                     ((2025, 4, 21, 10, 0), ["Z50.100"]))
        stored = json.loads(s3.case_json)
        checks.equal("S3's stored JSON: discharge, fund paid, case number",
                     (stored["stay"]["discharged_at"], stored["payment"]["hifp_pay"],
                      stored["header"]["case_number"]),
                     ("2025-04-21 10:00:00", "9000.00", "BA3"))
        checks.equal("S0's valuation: coefficient, points",
                     (Decimal(valuation.get("coefficient", "NaN")),
                      Decimal(valuation.get("breakdown", {}).get("points", "NaN"))),
                     (COEFFICIENT, drg_points))

        # Every case's valuation read typed: member for member its JSON, and the figures.
        typed_valuations = {}
        for list_id, *_ in STAYS:
            version = intake.GetCase(settlement.GetCaseRequest(
                region_code=REGION, hospital_code=HOSPITAL, list_id=list_id),
                metadata=county).versions[-1]
            typed = version.valuation
            typed_valuations[list_id] = typed
            stored = json.loads(version.valuation_json)
            stored["breakdown"] = flatten_decision(stored.get("breakdown"))
            checks.true(f"{list_id}'s typed valuation is set", version.HasField("valuation"))
            checks.equal(f"{list_id}'s typed valuation against its JSON",
                         differences(typed_as_json(typed), stored), [])
        s0_typed = typed_valuations["S0"]
        checks.equal("S0 typed: mode, rule, coefficient, points",
                     (s0_typed.payment_mode, s0_typed.breakdown.mode, s0_typed.mode_rule,
                      Decimal(s0_typed.coefficient.value),
                      Decimal(s0_typed.breakdown.points.value)),
                     ("DRG", "drg", "main_method", COEFFICIENT, drg_points))
        checks.equal("S1 typed: day surgery at its price",
                     (typed_valuations["S1"].breakdown.mode,
                      Decimal(typed_valuations["S1"].amount.yuan)),
                     ("day_surgery", DAY_SURGERY_PRICE))
        checks.equal("S2 typed: excluded stay, no points",
                     (typed_valuations["S2"].breakdown.mode,
                      typed_valuations["S2"].mode_rule,
                      Decimal(typed_valuations["S2"].breakdown.points.value)),
                     ("fee_for_service", "excluded_stay", Decimal(0)))
        s3_typed = typed_valuations["S3"].breakdown
        checks.equal("S3 typed: per diem, programme, days × daily rate",
                     (s3_typed.mode, s3_typed.per_diem_programme,
                      [(p.days, Decimal(p.daily_rate.yuan)) for p in s3_typed.per_diem_days],
                      Decimal(s3_typed.amount.yuan)),
                     ("per_diem", "rehabilitation",
                      [(days_of(*STAYS[3][1:3]), REHABILITATION_DAILY)],
                      REHABILITATION_DAILY * days_of(*STAYS[3][1:3])))

        # What each money mode is worth, and what the fund owes of it (the standard less the
        # patient's burden; an excluded stay is paid its claim).
        money_mode_fund = {
            "day_surgery": DAY_SURGERY_PRICE - BURDEN,
            "fee_for_service": FUND_PAID,
            "per_diem_rehabilitation": REHABILITATION_DAILY * days_of(*STAYS[3][1:3]) - BURDEN,
        }
        money_mode_amount = {
            "day_surgery": DAY_SURGERY_PRICE,
            "per_diem_rehabilitation": REHABILITATION_DAILY * days_of(*STAYS[3][1:3]),
        }

        print("March prepayment")
        march = run_service.RunPrepayment(runs.RunPrepaymentRequest(
            request_id="prepay-2025-03", region_code=REGION,
            period=common.YearMonth(year=2025, month=3), fund_type=employee,
            provisional_point_value=common.Decimal(value=str(PROVISIONAL_POINT_VALUE))),
            metadata=bureau)
        march_lines = run_service.ListStatements(runs.ListStatementsRequest(
            region_code=REGION, run_id=march.run_id), metadata=county).statements
        march_statement = json.loads(march_lines[0].statement_json)
        march_money = money_mode_fund["day_surgery"] + money_mode_fund["fee_for_service"]
        march_value = fen(drg_points * PROVISIONAL_POINT_VALUE) - BURDEN + march_money
        advanced = fen(march_value * PREPAYMENT_RATIO)
        march_payable = advanced - fen(advanced * QUALITY_DEPOSIT)
        checks.equal("March money modes' fund part",
                     Decimal(march_statement["money_fund_part"]), march_money)
        checks.equal("March fund value", Decimal(march_statement["fund_value"]), march_value)
        checks.equal("March payable", Decimal(march_statement["payable"]), march_payable)
        # 95,000 × 0.85 = 80,750 prepaid, less 2 % of it (1,615) withheld.
        checks.equal("March payable by hand", march_payable, Decimal("79135.00"))
        checks.equal("March statement's detail", march_lines[0].WhichOneof("detail"),
                     "prepayment")
        march_typed = march_lines[0].prepayment
        checks.equal("March typed statement against its JSON",
                     differences(typed_as_json(march_typed), march_statement), [])
        checks.equal("March typed: points, fund value, payable",
                     (Decimal(march_typed.points.value), Decimal(march_typed.fund_value.yuan),
                      Decimal(march_typed.payable.yuan)),
                     (drg_points, march_value, march_payable))

        print("year-end clearing")
        year = run_service.RunClearing(runs.RunClearingRequest(
            request_id="clear-2025", region_code=REGION, year=2025, fund_type=employee,
            distributable_budget=common.Money(yuan=str(DISTRIBUTABLE_BUDGET))),
            metadata=bureau)
        identity = year.identity
        entitlements = Decimal(identity.total_entitlements.yuan)
        special = Decimal(identity.ffs_special_total.yuan)
        residue = Decimal(identity.residue.yuan)
        budget = Decimal(identity.distributable_budget.yuan)
        checks.equal("identity's budget", budget, DISTRIBUTABLE_BUDGET)
        checks.equal("entitlements + special + residue", entitlements + special + residue,
                     budget)
        checks.true("the server says the identity holds", identity.holds)

        statements = []
        page_token = ""
        while True:
            page = run_service.ListStatements(runs.ListStatementsRequest(
                region_code=REGION, run_id=year.run_id, page_token=page_token),
                metadata=county)
            statements.extend(page.statements)
            page_token = page.next_page_token
            if not page_token:
                break
        checks.equal("statements", [s.hospital_code for s in statements], [HOSPITAL])
        statement = json.loads(statements[0].statement_json)
        checks.equal("Σ statements' entitlements",
                     sum(Decimal(json.loads(s.statement_json)["fund_entitlement"])
                         for s in statements), entitlements)

        # The money modes are paid first; the DRG points share what is left, their burden
        # added back since the fund pays a DRG case its value less the burden.
        year_money = sum(money_mode_fund.values())
        point_value = four_places((DISTRIBUTABLE_BUDGET - year_money + BURDEN) / drg_points)
        points_fund = fen(drg_points * point_value) - BURDEN
        checks.equal("point value", Decimal(statement["point_value"]), point_value)
        checks.equal("point value by hand", point_value, Decimal("819.0476"))
        checks.equal("money modes' fund part", Decimal(statement["money_fund_part"]),
                     year_money)
        checks.equal("points' fund part", Decimal(statement["points_fund_part"]), points_fund)
        checks.equal("entitlement", Decimal(statement["fund_entitlement"]),
                     points_fund + year_money)
        checks.equal("residue", residue, DISTRIBUTABLE_BUDGET - points_fund - year_money)
        checks.equal("what the fund paid of the stays", Decimal(statement["sharing_actual"]),
                     FUND_PAID * len(STAYS))
        checks.equal("clearing statement's detail", statements[0].WhichOneof("detail"),
                     "clearing")
        year_typed = statements[0].clearing
        checks.equal("clearing typed statement against its JSON",
                     differences(typed_as_json(year_typed), statement), [])
        checks.equal("clearing typed: point value, entitlement, balance",
                     (Decimal(year_typed.point_value.value),
                      Decimal(year_typed.fund_entitlement.yuan),
                      Decimal(year_typed.balance.yuan)),
                     (point_value, points_fund + year_money,
                      Decimal(year_typed.final_amount.yuan) - Decimal(year_typed.prepaid.yuan)))
        typed_lines = {line.mode: line for line in year_typed.modes}
        checks.equal("clearing typed: day surgery's fund part",
                     Decimal(typed_lines["day_surgery"].fund_part.yuan)
                     if "day_surgery" in typed_lines else None,
                     money_mode_fund["day_surgery"])
        lines = {line["mode"]: line for line in statement["modes"]}
        for mode, fund_part in money_mode_fund.items():
            line = lines.get(mode, {})
            checks.equal(f"{mode} fund part", Decimal(line.get("fund_part", "NaN")), fund_part)
            if mode in money_mode_amount:
                checks.equal(f"{mode} amount", Decimal(line.get("amount", "NaN")),
                             money_mode_amount[mode])
        checks.equal("drg points", Decimal(lines.get("drg", {}).get("points", "NaN")),
                     drg_points)

        typed_budget(checks, budget_grpc.BudgetServiceStub(channel), budget_pb,
                     budget_document, common, bureau, county)
        channel.close()
    finally:
        server.stop()


# The resident fund's budget, put typed: last year's 80,000,000 grown 3 %, 70 % inpatient (a
# 5 % adjustment reserve held back from it by default) and 30 % outpatient pooling.
BUDGET_LAST_YEAR = Decimal("80000000")
BUDGET_GROWTH = Decimal("0.03")
BUDGET_INPATIENT_SHARE = Decimal("0.7")
BUDGET_RESERVE_RATE = Decimal("0.05")


def typed_budget(checks, budgets, budget_pb, budget_document, common, bureau, county):
    """Creates a budget from a typed document (a broken one first, refused with its field's
    path) and reads it back typed, every figure against the JSON form and against a hand
    computation."""
    import grpc
    print("budget")
    resident = common.FUND_TYPE_RESIDENT

    def document(growth_cap):
        return budget_document.BudgetDocument(
            region=REGION, year=2025, fund_type=resident, mode="hospital_caps",
            basis=budget_document.BudgetBasis(
                last_year_growth=budget_document.LastYearGrowthBasis(
                    last_year_spending=common.Money(yuan=str(BUDGET_LAST_YEAR)),
                    growth_cap=common.Decimal(value=growth_cap))),
            split=budget_document.BudgetSplit(shares=budget_document.BlockShareList(shares=[
                budget_document.BlockShare(
                    block="inpatient", share=common.Decimal(value=str(BUDGET_INPATIENT_SHARE))),
                budget_document.BlockShare(
                    block="outpatient_pooling",
                    share=common.Decimal(value=str(1 - BUDGET_INPATIENT_SHARE))),
            ])))

    def create(request_id, typed):
        return budgets.CreateBudget(budget_pb.CreateBudgetRequest(
            request_id=request_id, region_code=REGION, year=2025, fund_type=resident,
            document=typed), metadata=bureau)

    try:
        create("budget-2025-broken", document("three percent"))
        checks.true("a broken typed budget is refused", False)
    except grpc.RpcError as error:
        checks.equal("a broken typed budget", error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        checks.true("the broken field is named",
                    "document.basis.last_year_growth.growth_cap" in error.details(),
                    error.details())
    created = create("budget-2025", document(str(BUDGET_GROWTH))).budget

    total = fen(BUDGET_LAST_YEAR * (1 + BUDGET_GROWTH))
    inpatient = fen(total * BUDGET_INPATIENT_SHARE)
    reserve = fen(inpatient * BUDGET_RESERVE_RATE)
    read = budgets.GetBudget(budget_pb.GetBudgetRequest(
        region_code=REGION, year=2025, fund_type=resident), metadata=county).budget
    checks.true("the budget read is the one created", read == created)
    computed = read.computed
    checks.equal("typed budget: version, total, reserve, default reserve rate",
                 (computed.version, Decimal(computed.total.yuan),
                  Decimal(computed.adjustment_reserve.yuan),
                  Decimal(computed.document.policy.adjustment_reserve_rate.value)),
                 (1, total, reserve, BUDGET_RESERVE_RATE))
    checks.equal("typed budget: blocks",
                 [(b.kind, Decimal(b.amount.yuan), Decimal(b.reserve.yuan),
                   Decimal(b.allocatable.yuan)) for b in computed.blocks],
                 [("inpatient", inpatient, reserve, inpatient - reserve),
                  ("outpatient_pooling", total - inpatient, Decimal(0), total - inpatient)])
    stored = json.loads(read.document_json)
    checks.equal("typed budget against its JSON: total, blocks, basis",
                 (Decimal(stored["total"]),
                  [(b["kind"], Decimal(b["amount"]), Decimal(b["reserve"]))
                   for b in stored["blocks"]],
                  Decimal(stored["document"]["basis"]["growth_cap"])),
                 (Decimal(computed.total.yuan),
                  [(b.kind, Decimal(b.amount.yuan), Decimal(b.reserve.yuan))
                   for b in computed.blocks],
                  Decimal(computed.document.basis.last_year_growth.growth_cap.value)))
    checks.equal("typed budget: which basis and split", (
        computed.document.basis.WhichOneof("kind"), computed.document.split.WhichOneof("kind")),
        ("last_year_growth", "shares"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medpay", required=True, help="the medpay binary")
    parser.add_argument("--stubs", required=True, help="folder of the generated Python stubs")
    parser.add_argument("--data", default=None, help="folder for the server's data")
    arguments = parser.parse_args()
    sys.path.insert(0, arguments.stubs)
    data = arguments.data or tempfile.mkdtemp(prefix="medpay-vendor-")

    started = time.monotonic()
    checks = Checks()
    try:
        run(arguments.medpay, data, checks)
    except Exception:  # any error of a call or of the server is a failed check, and loud
        traceback.print_exc()
        checks.failed += 1
    print(f"vendor contract test took {time.monotonic() - started:.1f} s")
    print(f"vendor: {checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
