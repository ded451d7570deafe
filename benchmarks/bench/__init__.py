"""The pieces of `serve_bench.py`: processes, the rendered project, wrk and the report."""
