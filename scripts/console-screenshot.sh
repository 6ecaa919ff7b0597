#!/usr/bin/env bash
# Renders the console client's output (ANSI dim kept) to a PNG with headless Chromium: docs/screenshot-console.png.
# Usage (with ./run.sh running): scripts/console-screenshot.sh [URL] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:-http://127.0.0.1:5080}
OUT=${2:-docs/screenshot-console.png}
CLIENT=Client/bin/Release/net10.0/ChatStreaming.Client.dll
PROMPT='please search my history for okapi'
dotnet "$CLIENT" --url "$URL" --user demo-console --prompt "my okapi is called Dotty" >/dev/null
script -qc "dotnet $CLIENT --url $URL --user demo-console --model thinking --prompt '$PROMPT'" /tmp/console.typescript >/dev/null
python3 - "$URL" "$PROMPT" <<'PY'
import html, re, sys
url, prompt = sys.argv[1], sys.argv[2]
raw = open('/tmp/console.typescript', encoding='utf-8', errors='replace').read()
body = raw.split('\n', 1)[1].rsplit('\nScript done', 1)[0].replace('\r', '').replace('\x1b[?1h\x1b=', '')
parts, pos, dim = [], 0, False
for m in re.finditer(r'\x1b\[(\d+)m', body):
    parts.append((dim, body[pos:m.start()])); pos = m.end(); dim = m.group(1) == '2'
parts.append((dim, body[pos:]))
text = ''.join(f'<span class="dim">{html.escape(t)}</span>' if d else html.escape(t) for d, t in parts)
cmd = f"$ dotnet run --project Client -- --url {url} --user demo-console --model thinking --prompt '{prompt}'"
open('/tmp/console.html', 'w').write(f'''<!doctype html><meta charset="utf-8"><style>
body{{margin:0;background:#1e1e1e}} pre{{margin:0;padding:16px;color:#e6e6e6;font:14px/1.45 "DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-all}}
.dim{{color:#8a8a8a}} .cmd{{color:#9cdcfe}}</style><pre><span class="cmd">{html.escape(cmd)}</span>
{text}</pre>''')
PY
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,640 --screenshot="$PWD/$OUT" file:///tmp/console.html 2>/dev/null
echo "$OUT"
