#!/usr/bin/env python3
"""Writes the demo DIP directory (directories/demo/) reproducibly.

Codes are real ICD-10 医保版 2.0 diagnosis categories and ICD-9-CM-3 医保版 2.0 procedures; mean
costs are plausible synthetic figures (base cost of the category x a factor per treatment x a
deterministic variation), scores follow DOMAIN.md §3 DIP scores: mean / M x 1000, rounded once
to 4 places. Run from the crate folder: `python3 tools/gen_demo.py`.
"""
import hashlib
import json
import os
from decimal import Decimal, ROUND_HALF_UP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "directories", "demo")
REFERENCE_MEAN = Decimal("10850.00")
SCALE = Decimal("1000")

# code -> (type, name)
PROCS = {
    "47.0100": ("surgical", "腹腔镜下阑尾切除术"),
    "47.0900": ("surgical", "其他阑尾切除术"),
    "51.2300": ("surgical", "腹腔镜下胆囊切除术"),
    "51.2200": ("surgical", "胆囊切除术"),
    "51.1000": ("diagnostic", "内镜逆行胰胆管造影[ERCP]"),
    "51.8500": ("therapeutic", "内镜括约肌切开术和十二指肠乳头切开术"),
    "51.8800": ("therapeutic", "内镜去除胆管结石"),
    "36.0600": ("interventional", "非-药物洗脱冠状动脉支架置入"),
    "36.0700": ("interventional", "药物洗脱冠状动脉支架置入"),
    "00.6600": ("interventional", "经皮冠状动脉腔内血管成形术[PTCA]"),
    "00.4000": ("interventional", "单根血管操作"),
    "00.4500": ("interventional", "置入一根血管支架"),
    "88.5500": ("diagnostic", "单根导管的冠状动脉造影术"),
    "37.2200": ("diagnostic", "左心导管置入"),
    "88.4100": ("diagnostic", "脑动脉造影术"),
    "39.7900": ("interventional", "其他血管的其他血管内修补术"),
    "39.5000": ("interventional", "其他非冠状血管成形术"),
    "38.1200": ("surgical", "头和颈部其他血管内膜切除术"),
    "81.5100": ("surgical", "全髋关节置换"),
    "81.5200": ("surgical", "髋关节部分置换"),
    "81.5400": ("surgical", "全部膝关节置换"),
    "79.3500": ("surgical", "股骨骨折开放性复位术伴内固定"),
    "79.1500": ("surgical", "股骨骨折闭合性复位术伴内固定"),
    "79.3600": ("surgical", "胫骨和腓骨骨折开放性复位术伴内固定"),
    "78.5500": ("surgical", "股骨内固定不伴骨折复位术"),
    "80.5100": ("surgical", "椎间盘切除术"),
    "81.0800": ("surgical", "前柱腰和腰骶部融合，后路法"),
    "81.0200": ("surgical", "前柱其他颈融合，前路法"),
    "13.4100": ("surgical", "白内障晶状体乳化和抽吸"),
    "13.4100x001": ("surgical", "白内障超声乳化抽吸术"),
    "12.6400": ("surgical", "外路小梁切除术"),
    "14.7400": ("surgical", "其他机械性玻璃体切除术，后入路"),
    "14.2400": ("therapeutic", "用激光光凝固法的脉络膜视网膜病损破坏术"),
    "53.0000": ("surgical", "腹股沟疝单侧修补术"),
    "53.0200": ("surgical", "其他和开放性腹股沟斜疝修补术"),
    "53.1700": ("surgical", "用移植物或假体的双侧腹股沟疝修补术"),
    "68.4900": ("surgical", "其他和未特指的腹式全子宫切除术"),
    "68.2900": ("surgical", "子宫病损的其他切除术或破坏术"),
    "65.2500": ("surgical", "其他腹腔镜卵巢局部切除术或破坏术"),
    "69.0900": ("therapeutic", "其他扩张和刮宫术"),
    "69.5200": ("therapeutic", "分娩或流产后抽吸刮宫术"),
    "74.1x00": ("surgical", "低位子宫下段剖宫产"),
    "73.5900": ("therapeutic", "其他手法助产"),
    "45.1300": ("diagnostic", "小肠其他内镜检查"),
    "45.2300": ("diagnostic", "结肠镜检查"),
    "44.1300": ("diagnostic", "其他胃镜检查"),
    "45.4200": ("therapeutic", "内镜下大肠息肉切除术"),
    "45.4300": ("therapeutic", "内镜下大肠其他病损或组织破坏术"),
    "45.7300": ("surgical", "开放性和其他右半结肠切除术"),
    "45.7600": ("surgical", "开放性和其他乙状结肠切除术"),
    "17.3400": ("surgical", "腹腔镜横结肠切除术"),
    "48.6300": ("surgical", "其他直肠前切除术"),
    "43.6x00": ("surgical", "胃部分切除术伴胃十二指肠吻合术"),
    "43.5x00": ("surgical", "胃部分切除术伴食管胃吻合术"),
    "50.2200": ("surgical", "部分肝切除术"),
    "50.2600": ("interventional", "肝病损或组织的其他和未特指消融术"),
    "32.4100": ("surgical", "胸腔镜下肺叶切除术"),
    "32.3000": ("surgical", "胸腔镜肺叶节段切除术"),
    "33.2700": ("diagnostic", "闭合性肺内镜活组织检查"),
    "33.2400": ("diagnostic", "闭合性[内镜的]支气管活组织检查"),
    "34.9100": ("therapeutic", "胸腔穿刺术"),
    "85.4300": ("surgical", "单侧扩大的单纯乳房切除术"),
    "85.2100": ("surgical", "乳房病损局部切除术"),
    "06.3900": ("surgical", "其他部分甲状腺切除术"),
    "06.2x00": ("surgical", "单侧甲状腺叶切除术"),
    "60.2900": ("surgical", "其他经尿道前列腺切除术"),
    "60.2100": ("surgical", "经尿道(超声)激光诱导前列腺切除术(TULIP)"),
    "55.0300": ("surgical", "经皮肾造口术不伴碎裂术"),
    "56.0x00": ("surgical", "经尿道输尿管和肾盂梗阻去除"),
    "59.8x00": ("therapeutic", "输尿管导管插入术"),
    "28.2x00": ("surgical", "扁桃体切除术不伴腺样增殖体切除术"),
    "28.3x00": ("surgical", "扁桃体切除术伴腺样增殖体切除术"),
    "21.3100": ("surgical", "鼻内病损局部切除术或破坏术"),
    "38.5900": ("surgical", "下肢静脉曲张的结扎术和剥脱术"),
    "86.2200": ("surgical", "伤口、感染或烧伤的切除性清创术"),
    "86.2800": ("therapeutic", "伤口、感染或烧伤的非切除性清创术"),
    "96.0400": ("therapeutic", "气管内插管"),
    "96.7100": ("therapeutic", "少于96小时连续的持续性侵入性机械性通气"),
    "96.7200": ("therapeutic", "等于或大于96小时连续的持续性侵入性机械性通气"),
    "99.1000": ("therapeutic", "血栓溶解药的注射或输注"),
    "99.2500": ("therapeutic", "注射或输注癌瘤化学治疗药物"),
    "99.2800": ("therapeutic", "注射或输注作为一种抗肿瘤药的生物治疗调节[BRM]"),
    "92.2400": ("therapeutic", "光子远距离放射疗法"),
    "39.9500": ("therapeutic", "血液透析"),
    "38.9300": ("therapeutic", "静脉导管插入术"),
    "54.9100": ("therapeutic", "经皮腹部引流术"),
    "88.7200": ("diagnostic", "心脏诊断性超声"),
    "87.0300": ("diagnostic", "头部计算机轴向断层照相术"),
    "03.3100": ("diagnostic", "脊髓放液"),
}

# (category, name, base cost of a conservative stay, [(combination, factor, kind)], conservative kind)
# kind: "core" or "basic" (基层病种: one price at every level)
CATS = [
    ("A09.0", "传染性病因的胃肠炎和结肠炎", 3200, [("45.2300", 1.6, "core")], "basic"),
    ("A09.9", "胃肠炎和结肠炎", 2900, [], "basic"),
    ("A15.0", "肺结核，经显微镜下痰检查证实", 9800, [("33.2400", 1.3, "core"), ("34.9100", 1.2, "core")], "core"),
    ("B02.9", "带状疱疹不伴有并发症", 4300, [], "basic"),
    ("C16.9", "胃恶性肿瘤", 14500, [("43.6x00", 4.4, "core"), ("43.5x00", 4.8, "core"), ("99.2500", 1.1, "core"), ("44.1300", 1.2, "core")], "core"),
    ("C18.7", "乙状结肠恶性肿瘤", 13800, [("45.7600", 4.1, "core"), ("99.2500", 1.05, "core"), ("45.2300", 1.2, "core")], "core"),
    ("C20.x", "直肠恶性肿瘤", 14200, [("48.6300", 4.5, "core"), ("99.2500", 1.05, "core"), ("92.2400", 2.2, "core"), ("99.2500+92.2400", 2.6, "core")], "core"),
    ("C22.0", "肝细胞癌", 15800, [("50.2200", 4.2, "core"), ("50.2600", 2.3, "core"), ("99.2500", 1.1, "core")], "core"),
    ("C34.9", "支气管或肺恶性肿瘤", 13600, [("32.4100", 4.6, "core"), ("32.3000", 4.2, "core"), ("33.2700", 1.4, "core"), ("99.2500", 1.0, "core"), ("99.2800", 1.9, "core"), ("92.2400", 2.4, "core")], "core"),
    ("C50.9", "乳房恶性肿瘤", 11800, [("85.4300", 2.6, "core"), ("85.2100", 1.9, "core"), ("99.2500", 0.9, "core"), ("92.2400", 2.1, "core")], "core"),
    ("C53.9", "宫颈恶性肿瘤", 12400, [("68.4900", 3.3, "core"), ("92.2400", 2.5, "core"), ("99.2500", 0.95, "core")], "core"),
    ("C61.x", "前列腺恶性肿瘤", 12900, [("60.2900", 2.2, "core"), ("92.2400", 2.3, "core")], "core"),
    ("C73.x", "甲状腺恶性肿瘤", 10200, [("06.3900", 2.0, "core"), ("06.2x00", 1.8, "core")], "core"),
    ("D25.9", "子宫平滑肌瘤", 7400, [("68.4900", 2.4, "core"), ("68.2900", 1.8, "core")], "core"),
    ("E04.1", "非毒性单个甲状腺结节", 6100, [("06.2x00", 2.2, "core"), ("06.3900", 2.3, "core")], "core"),
    ("E11.4", "2型糖尿病伴有神经的并发症", 8600, [], "core"),
    ("E11.9", "2型糖尿病", 6300, [], "basic"),
    ("G45.9", "短暂性大脑缺血性发作", 6900, [("88.4100", 1.7, "core")], "core"),
    ("H25.9", "老年性白内障", 4200, [("13.4100", 1.8, "core"), ("13.4100x001", 1.85, "core")], "core"),
    ("H26.9", "白内障", 4000, [("13.4100/13.4100x001", 1.8, "core")], "core"),
    ("H33.0", "视网膜脱离伴视网膜断裂", 7600, [("14.7400", 2.6, "core"), ("14.7400+14.2400", 3.0, "core")], "core"),
    ("H40.1", "原发性开角型青光眼", 5200, [("12.6400", 1.9, "core")], "core"),
    ("I10.x", "特发性（原发性）高血压", 5400, [], "basic"),
    ("I20.0", "不稳定型心绞痛", 9200, [("88.5500", 1.4, "core"), ("88.5500+37.2200", 1.5, "core"), ("36.0700", 4.1, "core"), ("36.0700+00.6600", 4.4, "core"), ("36.0600", 3.6, "core")], "core"),
    ("I20.8", "心绞痛，其他类型的", 8300, [("88.5500", 1.4, "core")], "core"),
    ("I21.9", "急性心肌梗死", 16800, [("36.0700", 2.9, "core"), ("36.0700+00.6600", 3.1, "core"), ("00.6600", 2.2, "core"), ("99.1000", 1.4, "core"), ("88.5500", 1.2, "core")], "core"),
    ("I25.1", "动脉硬化性心脏病", 8800, [("88.5500", 1.3, "core"), ("36.0700", 3.9, "core"), ("36.0600/36.0700", 3.8, "core")], "core"),
    ("I50.9", "心力衰竭", 10300, [("88.7200", 1.1, "core"), ("96.7100", 2.2, "core")], "core"),
    ("I61.9", "脑内出血", 22500, [("96.7100", 1.8, "core"), ("96.7200", 3.1, "core"), ("03.3100", 1.1, "core")], "core"),
    ("I63.9", "脑梗死", 11800, [("99.1000", 1.6, "core"), ("88.4100", 1.3, "core"), ("39.7900", 4.8, "core"), ("00.4500+39.5000", 5.2, "core"), ("38.1200", 4.3, "core")], "core"),
    ("I70.2", "四肢动脉的动脉粥样硬化", 11200, [("39.5000", 3.1, "core"), ("39.5000+00.4500", 3.6, "core")], "core"),
    ("I83.9", "下肢静脉曲张不伴有溃疡或炎症", 5600, [("38.5900", 2.1, "core")], "core"),
    ("J06.9", "急性上呼吸道感染", 2800, [], "basic"),
    ("J18.9", "肺炎", 6200, [("96.0400", 2.6, "core"), ("96.7100", 3.1, "core"), ("96.7200", 5.9, "core"), ("33.2400", 1.4, "core")], "basic"),
    ("J20.9", "急性支气管炎", 3600, [], "basic"),
    ("J34.2", "鼻中隔偏曲", 4600, [("21.3100", 2.0, "core")], "core"),
    ("J35.0", "慢性扁桃体炎", 3800, [("28.2x00", 1.9, "basic"), ("28.3x00", 2.1, "core")], "core"),
    ("J44.1", "慢性阻塞性肺病伴有急性加重", 8900, [("96.7100", 2.4, "core"), ("96.0400+96.7100", 2.6, "core")], "core"),
    ("J45.9", "哮喘", 5300, [], "basic"),
    ("K21.0", "胃-食管反流性疾病伴有食管炎", 4800, [("44.1300", 1.4, "core")], "core"),
    ("K25.9", "急性或慢性胃溃疡不伴有出血", 5600, [("44.1300", 1.3, "core")], "core"),
    ("K29.5", "慢性胃炎", 3900, [("44.1300", 1.35, "basic")], "basic"),
    ("K35.8", "急性阑尾炎，其他未特指", 5200, [("47.0100", 2.3, "core"), ("47.0900", 1.9, "basic"), ("47.0100/47.0900+54.9100", 2.7, "core")], "core"),
    ("K40.9", "单侧或未特指的腹股沟疝", 4100, [("53.0000", 1.8, "basic"), ("53.0200", 1.9, "core"), ("53.1700", 2.4, "core")], "core"),
    ("K56.6", "肠梗阻，其他和未特指的", 7400, [("45.1300", 1.3, "core")], "core"),
    ("K57.3", "大肠憩室病不伴有穿孔或脓肿", 6400, [("45.2300", 1.3, "core"), ("45.7300", 3.8, "core")], "core"),
    ("K63.5", "结肠息肉", 4200, [("45.4200", 1.5, "basic"), ("45.4300", 1.6, "core"), ("45.2300", 1.2, "core")], "core"),
    ("K80.1", "胆囊结石伴有其他胆囊炎", 6200, [("51.2300", 2.4, "core"), ("51.2200", 2.7, "core"), ("51.1000+51.8800", 3.0, "core")], "core"),
    ("K80.2", "胆囊结石不伴有胆囊炎", 5400, [("51.2300", 2.3, "core")], "core"),
    ("K81.0", "急性胆囊炎", 6500, [("51.2300", 2.5, "core"), ("51.2200", 2.8, "core"), ("54.9100", 1.6, "core")], "core"),
    ("K83.0", "胆管炎", 8700, [("51.1000+51.8500", 2.2, "core"), ("51.1000+51.8800", 2.4, "core")], "core"),
    ("K85.9", "急性胰腺炎", 11600, [("54.9100", 1.6, "core"), ("51.1000", 1.5, "core")], "core"),
    ("K92.2", "胃肠出血", 7800, [("44.1300", 1.25, "core"), ("45.2300", 1.3, "core")], "core"),
    ("M16.9", "髋关节病", 9200, [("81.5100", 5.2, "core"), ("81.5200", 4.4, "core")], "core"),
    ("M17.9", "膝关节病", 7100, [("81.5400", 6.6, "core")], "core"),
    ("M48.0", "椎管狭窄", 9400, [("81.0800", 6.1, "core"), ("80.5100+81.0800", 6.6, "core")], "core"),
    ("M51.2", "椎间盘移位，其他特指的", 8100, [("80.5100", 3.2, "core"), ("81.0200", 5.4, "core")], "core"),
    ("N18.5", "慢性肾脏病5期", 12800, [("39.9500", 1.5, "core"), ("38.9300+39.9500", 1.7, "core")], "core"),
    ("N20.0", "肾结石", 6800, [("55.0300", 2.8, "core")], "core"),
    ("N20.1", "输尿管结石", 6200, [("56.0x00", 2.3, "core"), ("59.8x00", 1.4, "core"), ("56.0x00+59.8x00", 2.6, "core")], "core"),
    ("N39.0", "泌尿道感染", 4600, [], "basic"),
    ("N40.x", "前列腺增生", 6300, [("60.2900", 2.5, "core"), ("60.2100", 2.7, "core")], "core"),
    ("N83.2", "卵巢囊肿，其他的", 5100, [("65.2500", 2.3, "core")], "core"),
    ("N84.0", "子宫体息肉", 3900, [("68.2900", 1.6, "core"), ("69.0900", 1.2, "basic")], "core"),
    ("O02.1", "稽留流产", 2900, [("69.5200", 1.3, "basic")], "core"),
    ("O03.9", "完全性或未特指的自然流产，无并发症", 2600, [("69.5200", 1.3, "core")], "core"),
    ("O34.2", "为以前的子宫手术瘢痕给予的孕产妇医疗", 5200, [("74.1x00", 1.6, "core")], "core"),
    ("O80.0", "头位顺产", 3900, [("73.5900", 1.1, "basic")], "basic"),
    ("O82.0", "经选择性剖宫产术的分娩", 5800, [("74.1x00", 1.3, "core")], "core"),
    ("P07.3", "早产婴儿，其他的", 13400, [("96.7100", 1.9, "core"), ("96.0400+96.7100", 2.2, "core")], "core"),
    ("P59.9", "新生儿黄疸", 3800, [], "basic"),
    ("R50.9", "发热", 3600, [], "core"),
    ("S06.0", "脑震荡", 4400, [("87.0300", 1.1, "core")], "core"),
    ("S52.5", "桡骨下端骨折", 5600, [("79.3500", 2.9, "core")], "core"),
    ("S72.0", "股骨颈骨折", 10200, [("81.5200", 4.1, "core"), ("81.5100", 4.8, "core"), ("79.1500", 2.9, "core"), ("79.3500", 3.1, "core")], "core"),
    ("S72.1", "经大转子骨折", 10800, [("79.1500", 3.0, "core"), ("79.3500", 3.3, "core"), ("78.5500", 2.8, "core")], "core"),
    ("S82.2", "胫骨骨干骨折", 9300, [("79.3600", 3.2, "core")], "core"),
    ("T14.1", "开放性伤口", 3400, [("86.2200", 1.9, "core"), ("86.2800", 1.3, "basic")], "basic"),
    ("Z51.0", "放射治疗疗程", 9600, [("92.2400", 2.1, "core")], "core"),
    ("Z51.1", "为肿瘤化学治疗疗程", 6800, [("99.2500", 1.1, "core"), ("99.2500+99.2800", 1.8, "core")], "core"),
]

# ICD-10 chapters, widened so that together they cover every category A00-Z99 (a case always has a
# comprehensive group to fall back to).
CHAPTERS = [
    ("A00-B99", "某些传染病和寄生虫病", 6200), ("C00-D49", "肿瘤", 12600),
    ("D50-D99", "血液及造血器官疾病和某些涉及免疫机制的疾患", 6900), ("E00-E99", "内分泌、营养和代谢疾病", 6400),
    ("F00-F99", "精神和行为障碍", 7800), ("G00-G99", "神经系统疾病", 8100), ("H00-H59", "眼和附器疾病", 4900),
    ("H60-H99", "耳和乳突疾病", 4300), ("I00-I99", "循环系统疾病", 10400), ("J00-J99", "呼吸系统疾病", 6700),
    ("K00-K99", "消化系统疾病", 7100), ("L00-L99", "皮肤和皮下组织疾病", 4800), ("M00-M99", "肌肉骨骼系统和结缔组织疾病", 8300),
    ("N00-N99", "泌尿生殖系统疾病", 6300), ("O00-O99", "妊娠、分娩和产褥期", 4600), ("P00-P99", "起源于围生期的某些情况", 9100),
    ("Q00-Q99", "先天性畸形、变形和染色体异常", 9700), ("R00-R99", "症状、体征和临床与实验室异常所见", 4400),
    ("S00-T99", "损伤、中毒和外因的某些其他后果", 8200), ("U00-Y99", "特殊目的编码和疾病与死亡的外因", 6500),
    ("Z00-Z99", "影响健康状态和与保健机构接触的因素", 5900),
]
# Comprehensive groups published for a single 3-character category.
THREE_CHAR = [("K35", "阑尾炎", 5400), ("I21", "急性心肌梗死", 16900), ("C34", "支气管和肺恶性肿瘤", 13900), ("S72", "股骨骨折", 10600)]
TREATMENTS = [("conservative", "C", "保守治疗", 1.0), ("diagnostic", "D", "诊断性操作", 1.3),
              ("therapeutic", "T", "治疗性操作", 1.7), ("interventional", "I", "介入治疗", 3.1),
              ("surgical", "S", "手术", 3.6)]
RANK = {t[0]: i for i, t in enumerate(TREATMENTS)}


def variation(key):
    digest = hashlib.sha256(key.encode()).digest()
    return 0.92 + (digest[0] / 255.0) * 0.16


def money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def score(mean):
    return (mean / REFERENCE_MEAN * SCALE).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def treatment_of(combination):
    codes = [c for part in combination.split("+") for c in part.split("/")]
    return max((PROCS[c][0] for c in codes), key=lambda t: RANK[t])


def proc_names(combination):
    return "+".join("/".join(PROCS[c][1] for c in part.split("/")) for part in combination.split("+"))


def write_tsv(name, header, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as out:
        out.write("\t".join(header) + "\n")
        for row in rows:
            out.write("\t".join(str(v) for v in row) + "\n")
    return len(rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    core = []
    for category, name, base, combos, conservative_kind in CATS:
        mean = money(base * variation(category))
        core.append((f"{category}-00", f"{name}（保守治疗）", conservative_kind, category, "conservative", "", score(mean), mean))
        for index, (combination, factor, kind) in enumerate(combos, start=1):
            mean = money(base * factor * variation(category + combination))
            core.append((f"{category}-{index:02d}", f"{name}：{proc_names(combination)}", kind, category,
                         treatment_of(combination), combination, score(mean), mean))
    comprehensive = []
    for diagnosis, name, base in THREE_CHAR + CHAPTERS:
        for treatment, letter, label, factor in TREATMENTS:
            mean = money(base * factor * variation(diagnosis + treatment))
            comprehensive.append((f"ZH-{diagnosis}-{letter}", f"{name}（综合病种，{label}）", diagnosis, treatment, score(mean), mean))
    procedures = sorted((code, kind, name) for code, (kind, name) in PROCS.items())
    auxiliary = [
        ("*", "cci", "1-2", "1.0500"), ("*", "cci", "3-4", "1.1200"), ("*", "cci", "5+", "1.2500"),
        ("*", "death", "within_3_days", "0.8000"), ("*", "death", "after_3_days", "1.3000"),
        ("*", "tumour", "metastasis", "1.1500"), ("*", "tumour", "radiotherapy", "1.2000"),
        ("*", "tumour", "chemotherapy", "1.1000"),
        ("*", "age", "0-28d", "1.3000"), ("*", "age", "29d-1y", "1.2000"), ("*", "age", "1-6y", "1.1000"),
        ("*", "age", "7-17y", "1.0500"), ("*", "age", "66y+", "1.0800"),
        ("C34.9-00", "tumour", "metastasis", "1.3500"), ("I21.9-01", "cci", "5+", "1.3200"),
        ("J18.9-00", "age", "66y+", "1.1500"),
    ]
    # Charlson comorbidity index (Quan et al. 2005 ICD-10 coding), one weight per condition.
    cci = []
    def add(condition, weight, prefixes):
        for prefix in prefixes:
            cci.append((prefix, weight, condition))
    add("myocardial_infarction", 1, ["I21", "I22", "I25.2"])
    add("congestive_heart_failure", 1, ["I50", "I11.0", "I13.0", "I13.2", "I42"])
    add("peripheral_vascular_disease", 1, ["I70", "I71", "I73.9"])
    add("cerebrovascular_disease", 1, [f"I6{d}" for d in range(10)] + ["G45", "G46"])
    add("dementia", 1, ["F00", "F01", "F02", "F03", "G30"])
    add("chronic_pulmonary_disease", 1, [f"J4{d}" for d in range(8)] + [f"J6{d}" for d in range(8)])
    add("rheumatic_disease", 1, ["M05", "M06", "M32", "M33", "M34", "M35.3"])
    add("peptic_ulcer", 1, ["K25", "K26", "K27", "K28"])
    add("mild_liver_disease", 1, ["B18", "K70.0", "K70.1", "K70.2", "K70.3", "K73", "K74"])
    add("diabetes_without_complication", 1, ["E10.9", "E11.9", "E14.9"])
    add("diabetes_with_complication", 2, [f"E1{t}.{d}" for t in (0, 1, 4) for d in range(2, 6)])
    add("hemiplegia", 2, ["G81", "G82"])
    add("renal_disease", 2, ["N18", "N19", "I12.0", "N25.0"])
    add("malignancy", 2, [f"C{n:02d}" for n in range(0, 77)] + ["C81", "C82", "C83", "C84", "C85", "C88", "C90", "C91", "C92", "C93", "C94", "C95", "C96", "C97"])
    add("severe_liver_disease", 3, ["I85", "K72.1", "K72.9", "K76.6"])
    add("metastatic_solid_tumour", 6, ["C77", "C78", "C79", "C80"])
    add("aids", 6, ["B20", "B21", "B22", "B23", "B24"])
    tumour = [("metastasis", "diagnosis", "C77"), ("metastasis", "diagnosis", "C78"), ("metastasis", "diagnosis", "C79"),
              ("radiotherapy", "diagnosis", "Z51.0"), ("radiotherapy", "procedure", "92.2"),
              ("chemotherapy", "diagnosis", "Z51.1"), ("chemotherapy", "procedure", "99.25")]
    counts = {
        "core_groups": sum(1 for r in core if r[2] == "core"),
        "basic_groups": sum(1 for r in core if r[2] == "basic"),
        "comprehensive_groups": write_tsv("comprehensive_groups.tsv", ["code", "name", "diagnosis", "treatment", "score", "mean_cost"], comprehensive),
        "procedure_types": write_tsv("procedure_types.tsv", ["code", "type", "name"], procedures),
        "auxiliary": write_tsv("auxiliary.tsv", ["group", "dimension", "subtype", "coefficient"], auxiliary),
        "cci_weights": write_tsv("cci_weights.tsv", ["prefix", "weight", "condition"], cci),
        "tumour_markers": write_tsv("tumour_markers.tsv", ["marker", "source", "prefix"], tumour),
    }
    write_tsv("core_groups.tsv", ["code", "name", "kind", "diagnosis_category", "treatment", "procedures", "score", "mean_cost"], core)
    meta = {
        "format": "dip-directory/1",
        "id": "demo-460000-2024",
        "name": "DIP 演示目录（海南省 2024）",
        "version": "2024.1",
        "region": "460000",
        "year": 2024,
        "score_scale": "1000",
        "reference_mean_cost": str(REFERENCE_MEAN),
        "description": "Demo directory: real ICD-10 医保版 2.0 categories and ICD-9-CM-3 医保版 2.0 procedures, synthetic means; chapter ranges widened to cover A00-Z99.",
        "counts": counts,
        "files": {"core_groups": "core_groups.tsv", "comprehensive_groups": "comprehensive_groups.tsv",
                  "procedure_types": "procedure_types.tsv", "auxiliary": "auxiliary.tsv",
                  "cci_weights": "cci_weights.tsv", "tumour_markers": "tumour_markers.tsv"},
    }
    with open(os.path.join(OUT, "directory.json"), "w", encoding="utf-8", newline="\n") as out:
        json.dump(meta, out, ensure_ascii=False, indent=2)
        out.write("\n")


if __name__ == "__main__":
    main()
