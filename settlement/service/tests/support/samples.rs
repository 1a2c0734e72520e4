//! Valid settlement records as JSON, for the intake tests and bench.

/// A valid inpatient settlement list as JSON (an appendicitis stay of one day, 12,000.00 total),
/// for tests, benches and demos: `discharge` is `yyyy-mm-dd`, `case_number` lets a caller send a
/// changed version of the same list.
pub fn sample_list_json(
    region: &str,
    hospital_code: &str,
    list_id: &str,
    discharge: &str,
    case_number: &str,
) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital_code}","hospital_level":"3","insutype":310,"psn_no":"P{list_id}","case_number":"{case_number}","declared_at":"{discharge} 18:00:00","pooling_region":"{region}"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{discharge} 08:30","admission_department":"general_surgery","discharged_at":"{discharge} 17:00","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{{"code":"K35.800","name":"acute appendicitis","admission_condition":1}},{{"code":"I10.x00","name":"hypertension","admission_condition":1}}],"procedures":[{{"code":"47.0100x001","name":"laparoscopic appendectomy","date":"{discharge}","anaesthesia":"general"}}],"charges":[{{"category":"surgery","amount":"7000.00"}},{{"category":"western_drugs","amount":"3000.00"}},{{"category":"bed","amount":"2000.00"}}],"payment":{{"medfee_sumamt":"12000.00","hifp_pay":"8400.00","hifmi_pay":"600.00","acct_pay":"1000.00","psn_cash_pay":"2000.00","fulamt_ownpay_amt":"300.00","copay_amt":"2700.00"}}}}"#
    )
}

/// A valid outpatient settlement as JSON, for tests and demos.
pub fn sample_outpatient_json(
    region: &str,
    hospital_code: &str,
    list_id: &str,
    settled: &str,
) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital_code}","hospital_level":"3","insutype":390,"psn_no":"P{list_id}","case_number":"MZ{list_id}","declared_at":"{settled} 18:00:00","pooling_region":"{region}"}},"kind":"outpatient","med_type":"11","settled_at":"{settled} 10:00","diagnoses":[{{"code":"I10.x00","name":"hypertension","admission_condition":1}}],"payment":{{"medfee_sumamt":"300.00","hifp_pay":"150.00","acct_pay":"50.00","psn_cash_pay":"100.00"}}}}"#
    )
}
