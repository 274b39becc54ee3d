"""Records to text: markdown (any tabulate format), JSON, CSV, HTML, charts."""
