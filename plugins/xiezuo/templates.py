"""`xiezuo templates --out DIR`: blank Excel templates for clerks, one per ledger kind.

Everything in a template is derived from the contract objects (contracts/*.yaml): the header row
(with the unit as `（万元）`), drop-down lists for enum and yes/no columns, number formats, and the
second sheet "填表说明" that explains every column in Chinese — header, accepted aliases, unit,
whether required, allowed values and the contract's rules as sentences. A new alias or column in
a YAML file changes the template with no code change.

The ledger sheet comes first (the reader takes the first visible sheet); the file name holds the
ledger's title, so the pipeline recognises the kind from it.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from . import contracts as C

FIXED_TIME = datetime(2025, 1, 1, 8, 0, 0)  # workbook properties and zip entry times: same content → same bytes
TITLE_ROW, HEADER_ROW = 1, 2
FIRST_DATA_ROW = HEADER_ROW + 1
VALIDATED_ROWS = 2000  # drop-downs and formats reach this many rows below the header
SHEET_LEDGER, SHEET_HELP, SHEET_LISTS = "台账", "填表说明", "_选项"
TRUE_FALSE = ("是", "否")

NUMBER_FORMATS = {
    "money": "#,##0.00##",
    "numeric": "0.####",
    "int": "0",
    "count": "0",
    "date": "yyyy-mm-dd",
    "text": "@",
    "id": "@",        # an ID typed into a number cell loses its last digits: text, always
    "personal": "@",  # phone numbers too
}
TYPE_TEXT = {
    "text": "文字",
    "enum": "从下拉列表中选择",
    "bool": "填“是”或“否”（下拉选择）",
    "date": "日期，如 2025-03-15 或 2025年3月15日",
    "int": "不小于 0 的整数",
    "count": "不小于 0 的整数",
    "money": "金额（数字，最多 4 位小数）",
    "numeric": "数字",
    "id": "18 位公民身份号码（单元格已设为文本格式，请勿改成数字格式）",
    "personal": "个人信息，仅供本单位核对：系统接收时即删除，不入库",
}
WIDTHS = {"date": 13, "money": 14, "numeric": 12, "int": 11, "count": 11, "bool": 11, "id": 21, "enum": 13,
          "personal": 14}
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")  # required columns: light orange
OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")  # optional columns: light blue
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def header_text(col: C.Column) -> str:
    """The header as the template prints it: `计划总投资（万元）`."""
    return f"{col.header}（{col.unit}）" if col.unit else col.header


def template_title(contract: C.Contract) -> str:
    """The fillable title line of the ledger sheet."""
    return f"XX旗（县、区）XXXX年X月{contract.title}"


def file_name(contract: C.Contract) -> str:
    """Holds the ledger's title, so the pipeline recognises the kind by the contract's keywords."""
    return f"{contract.title}（模板）.xlsx"


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)


def _q(text: str) -> str:
    return f"“{text}”"


def _other(contract: C.Contract, name: str | None) -> str:
    return _q(contract.column(name).header) if name else ""


def rule_sentence(contract: C.Contract, col: C.Column, rule: C.Rule) -> str:
    """One contract rule as a sentence for clerks, ending with what happens when it is broken."""
    unit = col.unit or ""
    check = rule.check
    if check == "unique":
        base = "同一文件中不能重复"
    elif check == "min":
        base = f"不能小于{_num(rule.value)}{unit if rule.value else ''}"
    elif check == "above":
        base = f"必须大于{_num(rule.value)}{unit if rule.value else ''}"
    elif check == "max":
        base = f"不能大于{_num(rule.value)}{unit}"
    elif check == "not_above_column":
        base = f"不能大于{_other(contract, rule.column)}"
    elif check == "in_period":
        base = "必须在报告月份之内"
    elif check == "not_after_period":
        base = "不能晚于报告月份的最后一天"
    elif check == "id_number":
        base = "必须是有效的18位公民身份号码（出生日期有效、最后一位校验码正确；小写x会自动转为X）"
    elif check == "age_min":
        base = f"按{_other(contract, rule.at)}计算，本人年龄不能小于{_num(rule.value)}周岁"
    elif check == "age_max":
        base = f"按{_other(contract, rule.at)}计算，本人年龄不能大于{_num(rule.value)}周岁"
    elif check == "gender_matches_id":
        base = f"应与{_other(contract, rule.column)}中的性别一致"
    elif check == "only_when":
        base = f"只在{_other(contract, rule.column)}为“{rule.equals}”时填写"
    else:  # a check added to contracts/ without a sentence here: still say something true
        base = f"须符合规则“{check}”"
    if rule.is_error:
        return f"{base}（否则整个文件不予接收）"
    return f"{base}（否则回执中提示核实，文件仍接收）"


def required_text(contract: C.Contract, col: C.Column) -> str:
    if col.required:
        return "必填"
    rw = col.required_when
    if rw is not None:
        other = _other(contract, rw.column)
        if rw.equals is not None:
            return f"{other}为“{rw.equals}”时必填"
        return f"填写了{other}时必填"
    return "选填"


def allowed_values(col: C.Column) -> tuple[str, ...]:
    if col.type == "enum":
        return col.values
    if col.type == "bool":
        return TRUE_FALSE
    return ()


def column_help(contract: C.Contract, col: C.Column) -> dict[str, str]:
    """Everything the 填表说明 sheet says about one column."""
    rules = [rule_sentence(contract, col, r) for r in col.rules]
    if col.type in ("int", "count") and not any(r.check in ("min", "above") for r in col.rules):
        rules.insert(0, "须为不小于0的整数（否则整个文件不予接收）")
    if col.type in ("enum", "bool"):
        rules.insert(0, "只能填可选值之一（否则整个文件不予接收）")
    unit = col.unit or ""
    if unit and col.type in C.NUMERIC_TYPES:
        fam = C.units().family_of(unit)
        others = [u for u in (C.units().families.get(fam) or {}) if u != unit] if fam else []
        unit_note = f"{unit}（表头也可写{'、'.join(others)}，按表头的单位换算）" if others else unit
    else:
        unit_note = unit
    return {
        "header": header_text(col),
        "aliases": "、".join(col.aliases),
        "unit": unit_note,
        "required": required_text(contract, col),
        "type": TYPE_TEXT.get(col.type, col.type),
        "values": "、".join(allowed_values(col)),
        "rules": "；".join(rules),
        "description": col.description,
    }


GENERAL_NOTES = (
    "每个旗县区每月每种台账报送一个文件，放入本旗县区的共享文件夹；提交后几分钟内，文件夹下的“回执”中会出现处理结果。",
    "文件名请写明旗县区、报告月份和台账名称，如“{example}.xlsx”；第1行标题中的“XX旗（县、区）XXXX年X月”请改为本旗县区和报告月份（与文件名一致），也可整行删除。",
    "第2行为表头，请勿修改列名；橙色表头为必填列，蓝色为选填列。可在最前面加一列“序号”，也可在末尾加一行“合计”（合计与明细之和不一致时回执会提示）。",
    "表头括号中的单位即填报单位；单元格中也可以带单位填写（如“12.5万元”“300元”），系统会换算。没有数据的单元格请留空或填“—”，不要填 0。",
    "只要有一处错误，整个文件都不接收，回执会列出每处错误的行号和列名；改正后把文件重新放入文件夹即可。同一旗县区同一月份的同一种台账再次提交并通过时，以最新一次为准。",
)


def build_workbook(contract: C.Contract) -> Workbook:
    """The template of one ledger, from its contract alone."""
    wb = Workbook()
    wb.properties.created = wb.properties.modified = FIXED_TIME
    wb.properties.creator = "xiezuo"
    wb.properties.title = contract.title
    ws = wb.active
    ws.title = SHEET_LEDGER
    cols = contract.columns
    last_letter = get_column_letter(len(cols))

    ws.cell(TITLE_ROW, 1, template_title(contract)).font = Font(size=14, bold=True)
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(f"A{TITLE_ROW}:{last_letter}{TITLE_ROW}")
    ws.row_dimensions[TITLE_ROW].height = 30
    ws.row_dimensions[HEADER_ROW].height = 36

    lists_ws = None
    last_row = HEADER_ROW + VALIDATED_ROWS
    for i, col in enumerate(cols, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(HEADER_ROW, i, header_text(col))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        cell.fill = REQUIRED_FILL if col.required else OPTIONAL_FILL
        help_ = column_help(contract, col)
        note = [help_["description"] or col.header, f"{help_['required']}；{help_['type']}"]
        if help_["rules"]:
            note.append(help_["rules"])
        comment = Comment("\n".join(note), "xiezuo")
        comment.width, comment.height = 300, 160
        cell.comment = comment
        width = max(WIDTHS.get(col.type, 16), len(header_text(col)) * 2 + 2)
        if col.type == "enum":
            width = max(width, max(len(v) for v in col.values) * 2 + 4)
        ws.column_dimensions[letter].width = min(width, 40)
        fmt = NUMBER_FORMATS.get(col.type)
        if fmt:
            ws.column_dimensions[letter].number_format = fmt
        rng = f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}"
        values = allowed_values(col)
        if values:
            inline = ",".join(values)
            if len(inline) + 2 <= 255:
                formula = f'"{inline}"'
            else:  # Excel's inline list is limited to 255 characters: list the values on a hidden sheet
                if lists_ws is None:
                    lists_ws = wb.create_sheet(SHEET_LISTS)
                    lists_ws.sheet_state = "hidden"
                for r, v in enumerate(values, start=1):
                    lists_ws.cell(r, i, v)
                formula = f"{quote_sheetname(SHEET_LISTS)}!${letter}$1:${letter}${len(values)}"
            dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
            dv.error = f"请从下拉列表中选择：{'、'.join(values)}"[:255]
            dv.errorTitle = "不是可选值"
            dv.prompt = (col.description or col.header)[:255]
            dv.promptTitle = col.header[:32]
            dv.showErrorMessage = dv.showInputMessage = True
            ws.add_data_validation(dv)
            dv.add(rng)
        elif col.type == "id":
            dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
            dv.errorStyle = "warning"  # Excel warns; the pipeline decides
            dv.errorTitle = "身份证号码位数不对"
            dv.error = "身份证号码应为18位；请核对"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(rng)
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)
    _help_sheet(wb, contract)
    wb.active = 0
    return wb


def _help_sheet(wb: Workbook, contract: C.Contract) -> None:
    ws = wb.create_sheet(SHEET_HELP, 1)
    ws.append([f"{contract.title}填表说明"])
    ws["A1"].font = Font(size=14, bold=True)
    ws.append([f"填报口径：{contract.grain}" if contract.grain else ""])
    example = f"科尔沁区2025年3月{contract.title}"
    for n, note in enumerate(GENERAL_NOTES, start=1):
        ws.append([f"{n}. {note.format(example=example)}"])
    ws.append([])
    heads = ["列名（表头）", "也可写作", "单位", "是否必填", "填写方式", "可选值", "校验规则", "说明"]
    ws.append(heads)
    head_row = ws.max_row
    for i in range(1, len(heads) + 1):
        c = ws.cell(head_row, i)
        c.font = Font(bold=True)
        c.fill = OPTIONAL_FILL
        c.border = BORDER
        c.alignment = Alignment(horizontal="center", vertical="center")
    for col in contract.columns:
        h = column_help(contract, col)
        aliases = "、".join(x for x in (h["aliases"], f"{col.name}（英文列名）") if x)
        ws.append([h["header"], aliases, h["unit"], h["required"], h["type"], h["values"], h["rules"],
                   h["description"]])
        for i in range(1, len(heads) + 1):
            c = ws.cell(ws.max_row, i)
            c.alignment = Alignment(vertical="top", wrap_text=True)
            c.border = BORDER
        if col.required:
            ws.cell(ws.max_row, 1).fill = REQUIRED_FILL
    for letter, width in zip("ABCDEFGH", (20, 26, 18, 18, 24, 30, 46, 36)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(head_row + 1, 1)


def workbook_bytes(wb: Workbook) -> bytes:
    """The .xlsx bytes with fixed times (openpyxl stamps the current time on each zip entry and
    on the "modified" property): the same workbook always gives the same bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            dst.writestr(fixed, data)
    return out.getvalue()


def write_templates(out: Path, contracts: list[C.Contract] | None = None) -> list[Path]:
    """One template per ledger kind in `out`; returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for contract in contracts if contracts is not None else C.all_contracts():
        path = out / file_name(contract)
        path.write_bytes(workbook_bytes(build_workbook(contract)))
        written.append(path)
    return written
