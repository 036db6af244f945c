#!/usr/bin/python3
"""The README's tour and its syncing steps, run as pasted, in order, against a
real ocopd on a free loopback port (the README's 127.0.0.1:8080 and
ocopd-data are replaced by this run's). Placeholders are filled from the run:
<ID> with the first idea's id. Lines marked "on a terminal" ask questions and
are left out (no keyboard here); [optional] arguments are dropped."""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument('--readme', required=True)
parser.add_argument('--bin-dir', action='append', required=True)
args = parser.parse_args()


def block_after(text, heading):
    """The first ```sh block after a heading line."""
    at = text.index(heading)
    start = text.index('```sh\n', at) + len('```sh\n')
    return text[start:text.index('```', start)]


def commands(block):
    """Shell commands of a block: continuation lines joined, comments and
    interactive lines left out, [optional] parts dropped."""
    out, pending = [], ''
    for line in block.splitlines():
        if line.rstrip().endswith('\\'):
            pending += line.rstrip()[:-1] + ' '
            continue
        line = pending + line
        pending = ''
        if 'on a terminal' in line:
            continue
        line = re.sub(r'\s+#.*$', '', line).strip()
        if not line or line.startswith('#'):
            continue
        out.append(re.sub(r'\s\[[^\]]*\]', '', line))
    return out


readme = open(args.readme, encoding='utf-8').read()
with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, PATH=':'.join(args.bin_dir) + ':' + os.environ['PATH'])
    data = os.path.join(tmp, 'ocopd-data')
    server = subprocess.Popen(['ocopd', '--data-dir', data, '--port', str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        ids = {}

        def run(cmd):
            cmd = cmd.replace('/tmp/', tmp + '/')  # before the data path, which lies under /tmp too
            cmd = cmd.replace('http://127.0.0.1:8080', f'http://127.0.0.1:{port}').replace('ocopd-data', data)
            for key, value in ids.items():
                cmd = cmd.replace(key, value)
            r = subprocess.run(['bash', '-c', cmd], env=env, capture_output=True, text=True, timeout=120,
                               cwd=tmp, stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                sys.exit(f'README line failed ({r.returncode}): {cmd}\n{r.stdout}{r.stderr}')
            return r.stdout

        env['OCOP_HOME'] = os.path.join(tmp, 'lan-laptop')
        tour = commands(block_after(readme, '## A tour'))
        assert len(tour) >= 10, tour
        for cmd in tour:
            if cmd.startswith('export '):
                continue  # PATH and OCOP_HOME are set by this run
            if '<ID>' in cmd and '<ID>' not in ids:
                listed = run('ocop list idea --json')
                ids['<ID>'] = re.search(r'"id":"([0-9a-f-]{36})"', listed).group(1)
            run(cmd)
        syncing = commands(block_after(readme, '### Syncing two devices and a coordinator'))
        assert any('login' in c for c in syncing), syncing
        out = ''
        for cmd in syncing:
            out = run(cmd)
        # The tour deleted its idea (ocop delete <ID>); its site visit reached the coordinator.
        assert 'Tư vấn 24/11/2026' in out, 'the coordinator lists the officer\'s visit: ' + out
        print(f'ok: {len(tour)} tour lines and {len(syncing)} syncing lines of the README ran as pasted')
    finally:
        server.terminate()
        server.wait(timeout=20)
