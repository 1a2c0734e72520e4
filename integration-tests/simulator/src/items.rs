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

/// The item billed for each diagnostic and therapeutic procedure of the demo DIP directory, by
/// its procedure code prefix (as supervision's demo items table names it in `procedures`, for
/// rule 5 c): an endoscopy, a puncture or a dialysis has a service item of its own, which a
/// stay bills when the procedure is performed. Operations bill [`OPERATION`] instead.
pub const PROCEDURE_ITEMS: [(&str, Item); 33] = [
    (
        "03.31",
        item(
            "003200000033100-320033100",
            "脊髓放液",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "14.24",
        item(
            "003300000142400-330142400",
            "用激光光凝固法的脉络膜视网膜病损破坏术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "33.24",
        item(
            "003200000332400-320332400",
            "闭合性[内镜的]支气管活组织检查",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "33.27",
        item(
            "003200000332700-320332700",
            "闭合性肺内镜活组织检查",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "34.91",
        item(
            "003300000349100-330349100",
            "胸腔穿刺术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "37.22",
        item(
            "003200000372200-320372200",
            "左心导管置入",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "38.93",
        item(
            "003300000389300-330389300",
            "静脉导管插入术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "39.95",
        item(
            "003300000399500-330399500",
            "血液透析",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "44.13",
        item(
            "003200000441300-320441300",
            "其他胃镜检查",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "45.13",
        item(
            "003200000451300-320451300",
            "小肠其他内镜检查",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "45.23",
        item(
            "003200000452300-320452300",
            "结肠镜检查",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "45.42",
        item(
            "003300000454200-330454200",
            "内镜下大肠息肉切除术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "45.43",
        item(
            "003300000454300-330454300",
            "内镜下大肠其他病损或组织破坏术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "51.10",
        item(
            "003200000511000-320511000",
            "内镜逆行胰胆管造影[ERCP]",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "51.85",
        item(
            "003300000518500-330518500",
            "内镜括约肌切开术和十二指肠乳头切开术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "51.88",
        item(
            "003300000518800-330518800",
            "内镜去除胆管结石",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "54.91",
        item(
            "003300000549100-330549100",
            "经皮腹部引流术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "59.8x",
        item(
            "003300000598000-330598000",
            "输尿管导管插入术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "69.09",
        item(
            "003300000690900-330690900",
            "其他扩张和刮宫术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "69.52",
        item(
            "003300000695200-330695200",
            "分娩或流产后抽吸刮宫术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "73.59",
        item(
            "003300000735900-330735900",
            "其他手法助产",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "86.28",
        item(
            "003300000862800-330862800",
            "伤口、感染或烧伤的非切除性清创术",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "87.03",
        item(
            "003200000870300-320870300",
            "头部计算机轴向断层照相术",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "88.41",
        item(
            "003200000884100-320884100",
            "脑动脉造影术",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "88.55",
        item(
            "003200000885500-320885500",
            "单根导管的冠状动脉造影术",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "88.72",
        item(
            "003200000887200-320887200",
            "心脏诊断性超声",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        "92.24",
        item(
            "003300000922400-330922400",
            "光子远距离放射疗法",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "96.04",
        item(
            "003300000960400-330960400",
            "气管内插管",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "96.71",
        item(
            "003300000967100-330967100",
            "少于96小时连续的持续性侵入性机械性通气",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "96.72",
        item(
            "003300000967200-330967200",
            "等于或大于96小时连续的持续性侵入性机械性通气",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "99.10",
        item(
            "003300000991000-330991000",
            "血栓溶解药的注射或输注",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "99.25",
        item(
            "003300000992500-330992500",
            "注射或输注癌瘤化学治疗药物",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
    (
        "99.28",
        item(
            "003300000992800-330992800",
            "注射或输注作为一种抗肿瘤药的生物治疗调节[BRM]",
            L::Service,
            "05",
            C::Treatment,
        ),
    ),
];

/// The item that bills a performed procedure, when it has one of its own.
pub fn procedure_item(procedure_code: &str) -> Option<Item> {
    PROCEDURE_ITEMS
        .iter()
        .find(|(prefix, _)| procedure_code.starts_with(prefix))
        .map(|(_, item)| *item)
}

/// The test that evidences a comorbidity, by the first letter of its diagnosis (the chapters of
/// the simulation's secondary diagnoses), as supervision's demo items table names it in
/// `supports` (rule 5 a).
pub const SUPPORTING_ITEMS: [(char, Item); 7] = [
    (
        'D',
        item(
            "002502010010000-250201001",
            "凝血功能检查",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
    (
        'E',
        item(
            "002503010010000-250301001",
            "电解质测定",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
    (
        'G',
        item(
            "002302010010000-230201001",
            "脑电图",
            L::Service,
            "03",
            C::Examination,
        ),
    ),
    (
        'I',
        item(
            "002503020010000-250302001",
            "心肌酶谱测定",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
    (
        'J',
        item(
            "002504010010000-250401001",
            "血气分析",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
    (
        'K',
        item(
            "002503030010000-250303001",
            "肝功能测定",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
    (
        'N',
        item(
            "002503040010000-250304001",
            "肾功能测定",
            L::Service,
            "04",
            C::Laboratory,
        ),
    ),
];

/// The test billed for a comorbidity whose code starts with `letter`.
pub fn supporting_item(letter: char) -> Option<Item> {
    SUPPORTING_ITEMS
        .iter()
        .find(|(first, _)| *first == letter)
        .map(|(_, item)| *item)
}

/// The examinations, tests and drugs a stay bills at most once a day (supervision's demo items
/// table gives each a daily limit of 1): a line of one of them billed twice the same day is the
/// seeded duplicate charge.
pub const ONCE_A_DAY: [Item; 6] = [
    CT,
    ULTRASOUND,
    BLOOD_COUNT,
    BIOCHEMISTRY,
    ANTIBIOTIC,
    PROTON_PUMP,
];
