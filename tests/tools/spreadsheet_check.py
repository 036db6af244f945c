#!/usr/bin/python3
"""The spreadsheets ocop writes, opened by a spreadsheet library (openpyxl,
Debian's python3-openpyxl) as a province's office would open them: 500 ideas
imported from a CSV sheet in one command, exported as .xlsx with Vietnamese
headers and words, numbers as numbers; the workbook read back by ocop import.
Exit 77 (skipped) when openpyxl is not installed."""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import openpyxl
except ImportError:
    print('python3-openpyxl is not installed (scripts/setup-deps.sh --tests)')
    sys.exit(77)

parser = argparse.ArgumentParser()
parser.add_argument('--ocop', required=True)
args = parser.parse_args()


def run(home, *argv, ok=True):
    r = subprocess.run([args.ocop, '--home', home, *argv], capture_output=True, text=True, timeout=120)
    if ok and r.returncode != 0:
        sys.exit(f'ocop {" ".join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}')
    return r


with tempfile.TemporaryDirectory() as tmp:
    home = os.path.join(tmp, 'xa')
    run(home, 'init', '--commune', '08800')
    sheet = os.path.join(tmp, 'y-tuong.csv')
    with open(sheet, 'w', encoding='utf-8') as f:
        f.write('Tên chủ thể;Loại hình chủ thể;Tên sản phẩm;Nhóm sản phẩm (1–6);'
                'Mô tả (giá trị cốt lõi, vì sao khách hàng mua)\n')
        for i in range(500):
            f.write(f'HTX số {i};Hợp tác xã;Sản phẩm {i};{1 + i % 6};Mô tả {i}\n')
    r = run(home, 'import', 'idea', sheet)
    assert 'Đã nhập 500 phiếu' in r.stdout, r.stdout
    book = os.path.join(tmp, 'y-tuong.xlsx')
    run(home, 'export', 'idea', '--format', 'xlsx', '--output', book)
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    assert ws.max_row == 501, ws.max_row
    header = [c.value for c in ws[1]]
    assert header[:6] == ['Mã phiếu', 'Đơn vị', 'Trạng thái', 'Xung đột', 'Tên chủ thể', 'Loại hình chủ thể'], header
    group = header.index('Nhóm sản phẩm (1–6)')
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert all(r[1] == 'Xã Đôn Nhân (08800)' for r in rows), rows[0]
    assert all(r[2] == 'Nháp' for r in rows), rows[0]
    assert all(r[5] == 'Hợp tác xã' for r in rows), rows[0]
    assert all(isinstance(r[group], int) for r in rows), 'a number cell: ' + repr(rows[0][group])
    assert sorted(r[group] for r in rows)[-1] == 6
    # The same workbook goes into another device whole.
    other = os.path.join(tmp, 'huyen')
    run(other, 'init', '--commune', '08800')
    r = run(other, 'import', 'idea', book)
    assert 'Đã nhập 500 phiếu' in r.stdout, r.stdout
    print('ok: 500 ideas imported from CSV, exported as .xlsx, opened by openpyxl, imported again')
