//! Fee items (医保目录) the simulated fee lines bill, and the packages whose components may not
//! be billed besides them. The codes are synthetic, in the national formats (诊疗项目
//! `00xxxxxxxxxxxxx-xxxxxxxxx`, 西药 `X…`, 医用耗材 `C…`).

use settlement_domain::case::{ChargeCategory, ListType};

/// One billable item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// 医保目录编码.
    pub code: &'static str,
    pub name: &'static str,
    pub list_type: ListType,
    /// 医疗收费项目类别 (`med_chrgitm_type`).
    pub charge_item_type: &'static str,
    pub category: ChargeCategory,
}

const fn item(
    code: &'static str,
    name: &'static str,
    list_type: ListType,
    charge_item_type: &'static str,
    category: ChargeCategory,
) -> Item {
    Item {
        code,
        name,
        list_type,
        charge_item_type,
        category,
    }
}

use ChargeCategory as C;
use ListType as L;

pub const BED: Item = item(
    "001102000010000-110200001",
    "床位费",
    L::Service,
    "01",
    C::Bed,
);
pub const CONSULTATION: Item = item(
    "001101000010000-110100001",
    "住院诊察费",
    L::Service,
    "02",
    C::Consultation,
);
/// 一级护理: a package that includes [`BASIC_CARE`] and [`VITAL_SIGNS`].
pub const NURSING_PACKAGE: Item = item(
    "001203000010000-120300001",
    "一级护理",
    L::Service,
    "07",
    C::Nursing,
);
pub const BASIC_CARE: Item = item(
    "001203000050000-120300005",
    "基础护理",
    L::Service,
    "07",
    C::Nursing,
);
pub const VITAL_SIGNS: Item = item(
    "001203000060000-120300006",
    "生命体征监测",
    L::Service,
    "07",
    C::Nursing,
);
pub const CT: Item = item(
    "002103000010000-210300001",
    "X线计算机体层(CT)平扫",
    L::Service,
    "03",
    C::Examination,
);
pub const ULTRASOUND: Item = item(
    "002203000010000-220300001",
    "彩色多普勒超声检查",
    L::Service,
    "03",
    C::Examination,
);
pub const BLOOD_COUNT: Item = item(
    "002501000010000-250100001",
    "血细胞分析",
    L::Service,
    "04",
    C::Laboratory,
);
pub const BIOCHEMISTRY: Item = item(
    "002503000010000-250300001",
    "生化全套",
    L::Service,
    "04",
    C::Laboratory,
);
pub const INFUSION: Item = item(
    "001204000010000-120400001",
    "静脉输液",
    L::Service,
    "05",
    C::Treatment,
);
pub const OPERATION: Item = item(
    "003307000010000-330700001",
    "手术费",
    L::Service,
    "06",
    C::Surgery,
);
pub const ANAESTHESIA: Item = item(
    "003301000010000-330100001",
    "全身麻醉",
    L::Service,
    "06",
    C::Surgery,
);
pub const CONSUMABLE: Item = item(
    "C0101010010100101010",
    "一次性使用手术耗材",
    L::Consumable,
    "08",
    C::Consumables,
);
pub const ANTIBIOTIC: Item = item(
    "XJ01DDC074A001010100445",
    "注射用头孢曲松钠",
    L::WesternDrug,
    "09",
    C::WesternDrugs,
);
pub const PROTON_PUMP: Item = item(
    "XA02BCA211A001010101234",
    "奥美拉唑肠溶胶囊",
    L::WesternDrug,
    "09",
    C::WesternDrugs,
);
pub const GENERAL_DIAGNOSIS: Item = item(
    "001101000020000-110100002",
    "一般诊疗费",
    L::Service,
    "12",
    C::GeneralDiagnosis,
);
pub const REGISTRATION: Item = item(
    "001101000030000-110100003",
    "挂号费",
    L::Service,
    "13",
    C::Registration,
);

/// Packages and the components included in them (分解收费 bills a component besides its
/// package on the same day).
pub const PACKAGES: [(Item, [Item; 2]); 1] = [(NURSING_PACKAGE, [BASIC_CARE, VITAL_SIGNS])];
