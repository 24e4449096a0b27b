#!/usr/bin/env python3
"""Prometheus 2.42's CPU per million scraped samples on the targets bench_scrape uses
(20 targets x 5000 series, gzip, scraped every second), for the side-by-side figure:

    python3 benchmarks/scrape_prometheus_cpu.py
    ./build/benchmarks/bench_scrape --benchmark_filter=HTTP

Serves the targets from this Python process and reads Prometheus' CPU time from /proc.
"""
import gzip, http.server, os, socket, subprocess, sys, threading, time, tempfile, shutil
FAM = ["node_cpu_seconds_total","node_network_receive_bytes_total","node_filesystem_avail_bytes",
       "http_request_duration_seconds_bucket","process_resident_memory_bytes","go_gc_duration_seconds"]
def body(series, seed):
    out=[]; n=0; fam=0
    while n < series:
        name=f"{FAM[fam%6]}_{fam//6}"
        out.append(f"# HELP {name} Help text for family {fam}.\n# TYPE {name} {'counter' if fam%3==0 else 'gauge'}\n")
        for i in range(50):
            if n>=series: break
            m=i%4
            if m==0: out.append(f"{name} {n*1.5+seed}\n")
            elif m==1: out.append(f'{name}{{cpu="{i}",mode="idle"}} {123456.78+n}\n')
            elif m==2: out.append(f'{name}{{device="eth{i}",fstype="ext4",mountpoint="/var/lib/{n}"}} {1e9+n*0.001}\n')
            else: out.append(f'{name}{{le="{0.005*i}",method="GET",path="/api/v1/query",code="200"}} {n+seed}\n')
            n+=1
        fam+=1
    return "".join(out).encode()
ports=[]
for t in range(20):
    gz=gzip.compress(body(5000,t))
    class H(http.server.BaseHTTPRequestHandler):
        data=gz
        protocol_version="HTTP/1.1"
        def do_GET(self):
            self.send_response(200); self.send_header("Content-Type","text/plain; version=0.0.4")
            self.send_header("Content-Encoding","gzip"); self.send_header("Content-Length",str(len(self.data))); self.end_headers(); self.wfile.write(self.data)
        def log_message(self, *a): pass
        def handle(self):
            try:
                super().handle()
            except ConnectionResetError:
                pass
    s=http.server.ThreadingHTTPServer(("127.0.0.1",0),H); ports.append(s.server_address[1])
    threading.Thread(target=s.serve_forever,daemon=True).start()
tmp=tempfile.mkdtemp()
with socket.socket() as so:
    so.bind(("127.0.0.1",0)); pport=so.getsockname()[1]
cfg=os.path.join(tmp,"p.yml")
open(cfg,"w").write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [" + ",".join(f"'127.0.0.1:{p}'" for p in ports) + "]\n")
p=subprocess.Popen(["/usr/bin/prometheus",f"--config.file={cfg}",f"--storage.tsdb.path={tmp}/d",f"--web.listen-address=127.0.0.1:{pport}"],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
def cpu():
    f=open(f"/proc/{p.pid}/stat").read().split(")")[1].split()
    return (int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK")
time.sleep(8)
c0=cpu(); t0=time.time(); time.sleep(20); c1=cpu(); t1=time.time()
import urllib.request, json
q=json.loads(urllib.request.urlopen(f"http://127.0.0.1:{pport}/api/v1/query?query=sum(scrape_samples_scraped)").read())
print("prometheus scrape_samples_scraped sum:", q["data"]["result"])
samples=(t1-t0)*20*5005
print(f"prometheus 2.42: cpu {c1-c0:.2f}s over {t1-t0:.1f}s, ~{samples/1e6:.2f}M samples, {((c1-c0)/(samples/1e6)):.2f} cpu s per 1M samples")
p.terminate(); p.wait(); shutil.rmtree(tmp)
