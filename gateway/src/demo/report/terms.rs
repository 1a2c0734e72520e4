//! The report's words: each code the ledger uses with its English and Chinese name, so a bureau
//! analyst reads the terms of the scheme's documents beside the codes of the files.

use kernel::FundType;

/// `English 中文` for a fund.
pub fn fund(fund: FundType) -> String {
    match fund {
        FundType::Employee => "310 employee 职工医保".to_owned(),
        FundType::Resident => "390 resident 城乡居民医保".to_owned(),
    }
}

/// `code English 中文` for a payment-mode line; an unknown code is shown as it is.
pub fn mode(code: &str) -> String {
    let named = match code {
        "drg" => "DRG 按病组付费",
        "dip" => "DIP 按病种分值付费",
        "day_surgery" => "day surgery 日间手术",
        "basic_level_disease" => "basic-level disease 基层病种",
        "fee_for_service" => "fee for service 按项目付费",
        "per_diem_psychiatric" => "psychiatric per diem 精神类按床日",
        "per_diem_rehabilitation" => "rehabilitation per diem 康复按床日",
        "per_diem_hospice" => "hospice per diem 安宁疗护按床日",
        "long_stay" => "long stay 长期住院按床日",
        super::figures::POINTS_PAID => "points-paid modes 按点数付费",
        _ => return code.to_owned(),
    };
    format!("{named} ({code})")
}

/// `English 中文` for a hospital level word.
pub fn level(code: &str) -> String {
    let named = match code {
        "3A" => "tertiary A 三级甲等",
        "3B" => "tertiary B 三级乙等",
        "2A" => "secondary A 二级甲等",
        "2B" => "secondary B 二级乙等",
        "1" => "primary 一级",
        "community" => "community 社区卫生服务中心",
        "unknown" => "not on the roster 名册外",
        _ => return code.to_owned(),
    };
    format!("{code} {named}")
}

/// `English 中文` for a sharing tier as the statement records it.
pub fn tier(code: &str) -> String {
    let named = match code {
        "surplus_retained" => "surplus retained 结余留用".to_owned(),
        "surplus_capped" => "surplus retained, capped 结余留用（封顶）".to_owned(),
        "standard" => "paid its standard 按标准支付".to_owned(),
        "no_standard" => "no standard 无支付标准".to_owned(),
        other => match other.strip_prefix("overspend_band_") {
            Some(band) => format!("overspend shared, band {band} 超支分担（第{band}档）"),
            None => return code.to_owned(),
        },
    };
    format!("{named} ({code})")
}

/// `English 中文` for a screening rule's level.
pub fn rule_level(level: &str) -> String {
    match level {
        "strong" => "strong 强规则".to_owned(),
        "general" => "general 一般规则".to_owned(),
        "weak" => "weak 弱规则".to_owned(),
        other => other.to_owned(),
    }
}
