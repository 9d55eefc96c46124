"""The Spark engine (`--engine spark`): the same report computed by Apache Spark through PySpark.

session.py builds the SparkSession from settings; load.py reads a source into the canonical
window DataFrame and checks it (SPEC 1.4, the DuckDB path's messages); score.py finds the
exact tie-aware quintile cuts with distributed selection and sums the score combinations;
behavior.py ports the behavior profile; report.py turns the small results into the same
`Report` the DuckDB engine builds; customers.py produces the customer list.
"""
