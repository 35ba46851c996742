// Per-question evidence for postgresql-15-qa.jsonl, verified by `node bench/eval/qa-tool.mjs check`.
//   pages:    for every expected page, a regex for the passage that answers the question (matched on the page's main text)
//   term:     the key-term regex run over all pages for the completeness check; every page it matches is either
//             in `expected` or listed in `excluded` with the reason it does not answer
//   deep:     every expected page answers only at or past word 1,000 of its main text
//   short:    a vague 3-6 word question
//   earlier:  for a deep question, why an earlier mention of the term on a page does not answer it
//   error:    the pasted error message, left out of the lexical-overlap check
export const checks = {
  "pg-001": {
    short: true,
    pages: {
      "server-shutdown.html":
        /To terminate an individual session while allowing other sessions to continue, use pg_terminate_backend/,
      "app-postgres.html": /To cancel a running query, send the SIGINT signal/,
      "functions-admin.html": /pg_cancel_backend \( pid integer \) → boolean Cancels the current query/,
    },
    term: /pg_cancel_backend|pg_terminate_backend/,
    excluded: {
      "hot-standby.html": "says the functions work on a standby; no how-to",
      "routine-vacuuming.html": "terminating a session in passing, to end a long transaction",
      "sql-dropdatabase.html": "DROP DATABASE FORCE terminates sessions; not about one query",
    },
  },
  "pg-002": {
    pages: {
      "plpgsql-control-structures.html":
        /It is recommended that applications use INSERT with ON CONFLICT DO UPDATE rather than actually using this pattern/,
      "sql-insert.html": /The optional ON CONFLICT clause specifies an alternative action/,
      "sql-merge.html": /If the item already exists, instead update the stock count/,
    },
    term: /ON CONFLICT DO UPDATE|WHEN NOT MATCHED/,
    excluded: {
      "fdw-planning.html": "FDW limitation",
      "plpgsql-trigger.html": "trigger return values",
      "postgres-fdw.html": "postgres_fdw limitation",
      "sql-createpolicy.html": "permissions needed by ON CONFLICT",
      "sql-createtrigger.html": "which triggers fire",
      "sql-createview.html": "view visibility rules",
      "transaction-iso.html": "concurrency behaviour of ON CONFLICT and MERGE",
      "trigger-definition.html": "trigger firing",
    },
  },
  "pg-003": {
    pages: { "sql-copy.html": /HEADER Specifies that the file contains a header line/ },
    term: /header line|HEADER \[ boolean/,
    excluded: {
      "app-psql.html": "CSV output format of psql",
      "file-fdw.html": "reads a CSV file as a foreign table; does not load an existing table",
    },
  },
  "pg-004": {
    pages: {
      "indexes-intro.html": /allow writes to occur in parallel with index creation/,
      "sql-createindex.html":
        /CONCURRENTLY When this option is used, PostgreSQL will build the index without taking any locks that prevent concurrent inserts/,
    },
    term: /CREATE INDEX CONCURRENTLY|build the index without taking any locks|in parallel with index creation/,
    excluded: {
      "amcheck.html": "amcheck internals",
      "ddl-partitioning.html": "indexes on partitions, example only",
      "explicit-locking.html": "lock level table",
      "progress-reporting.html": "progress view columns",
      "sql-altertable.html": "attach an index as a constraint",
      "sql-insert.html": "warning about ON CONFLICT during a build",
      "sql-reindex.html": "rebuilding an existing index",
    },
  },
  "pg-005": {
    deep: true,
    pages: { "sql-select.html": /With SKIP LOCKED , any selected rows that cannot be immediately locked are skipped/ },
    term: /SKIP LOCKED/,
    earlier: { "sql-select.html": "the synopsis at the top lists the keyword with no explanation" },
    excluded: { "fdw-callbacks.html": "FDW callback contract" },
  },

  "pg-006": {
    deep: true,
    pages: { "app-pgrestore.html": /-t table --table= table Restore definition and\/or data of only the named table/ },
    term: /--table=/,
    excluded: {
      "app-clusterdb.html": "clusterdb option",
      "app-pgamcheck.html": "pg_amcheck option",
      "app-pgdump.html": "selects tables when dumping, not restoring",
      "app-reindexdb.html": "reindexdb option",
      "app-vacuumdb.html": "vacuumdb option",
      "oid2name.html": "oid2name option",
    },
  },
  "pg-007": {
    deep: true,
    pages: {
      "continuous-archiving.html": /specify the stop point, known as the “ recovery target ”/,
      "runtime-config-wal.html":
        /recovery_target_time \( timestamp \) This parameter specifies the time stamp up to which recovery will proceed/,
    },
    term: /recovery_target_time/,
    excluded: {
      "warm-standby.html": "recovery_target_timeline for standbys",
    },
  },
  "pg-008": {
    short: true,
    pages: {
      "collation.html": /CREATE COLLATION case_insensitive \(provider = icu, locale = .und-u-ks-level2./,
      "indexes-expressional.html":
        /If we were to declare this index UNIQUE , it would prevent creation of rows whose col1 values differ only in case/,
      "citext.html": /allows a primary key to be case-insensitive/,
    },
    term: /differ only in case|case-insensitive(ly)? (unique|primary)|uniqueness case-insensitively|nondeterministic collation/i,
    excluded: {
      "btree-implementation.html": "B-tree deduplication internals",
      "functions-matching.html": "pattern matching limits with such collations",
      "sql-createcollation.html": "syntax of the deterministic option, no case-insensitive example",
    },
  },
  "pg-009": {
    short: true,
    pages: {
      "disk-usage.html": /the SQL functions listed in Table 9\.\d+ , using the oid2name module/,
      "functions-admin.html":
        /pg_total_relation_size \( regclass \) → bigint Computes the total disk space used by the specified table/,
    },
    term: /pg_total_relation_size|pg_table_size|pg_relation_size|relpages/,
    excluded: {
      "amcheck.html": "relpages used to order an example",
      "bloom.html": "example output of an index size",
      "catalog-pg-class.html": "catalog column definition only",
      "datatype-oid.html": "regclass quoting example",
      "event-trigger-table-rewrite-example.html": "event trigger example",
      "jit-decision.html": "JIT example query",
      "multivariate-statistics-examples.html": "planner statistics example",
      "pgstattuple.html": "page count of one relation for tuple statistics",
      "planner-stats.html": "planner statistics",
      "row-estimation-examples.html": "row estimation",
      "using-explain.html": "EXPLAIN cost example",
    },
  },
  "pg-010": {
    deep: true,
    pages: { "app-psql.html": /\\watch \[ seconds \] Repeatedly execute the current query buffer/ },
    term: /\\watch/,
    excluded: {},
  },

  "pg-011": {
    pages: {
      "limits.html": /field size 1 GB/,
      "storage-toast.html": /to 1 GB \(2 30 - 1 bytes\)/,
      "lo-intro.html": /TOAST ed fields can be at most 1 GB/,
    },
    term: /1 GB|1GB/,
    excluded: {
      "datatype-character.html": "covers character types only, as a side remark",
      "config-setting.html": "unit conversion example",
      "docguide-build.html": "build machine memory",
      "kernel-resources.html": "huge page size",
      "protocol-replication.html": "replication protocol option range",
      "runtime-config-logging.html": "log rotation example",
      "runtime-config-preset.html": "WAL segment size",
      "runtime-config-resource.html": "RAM size advice",
      "runtime-config-wal.html": "max_wal_size default",
      "storage-file-layout.html": "file segment size, not a value limit",
      "wal-configuration.html": "checkpoint defaults",
    },
  },
  "pg-012": {
    deep: true,
    pages: {
      "runtime-config-query.html":
        /effective_cache_size \( integer \) Sets the planner's assumption about the effective size of the disk cache/,
    },
    term: /effective_cache_size/,
    excluded: {
      "gist-implementation.html": "GiST buffered build threshold",
      "sql-createindex.html": "GiST buffering parameter",
    },
  },

  "pg-013": {
    pages: {
      "runtime-config-preset.html": /the default max_identifier_length is 63 bytes/,
      "sql-syntax-lexical.html": /maximum identifier length is 63 bytes/,
      "limits.html": /identifier length 63 bytes/,
    },
    term: /NAMEDATALEN|63 bytes/,
    excluded: {
      "datatype-character.html": "the internal name type; identifiers only named as its use",
      "datatype-enum.html": "enum label length",
      "ecpg-descriptors.html": "C struct in ECPG",
      "ecpg-variables.html": "ECPG type mapping",
      "monitoring-stats.html": "view fields truncated",
      "postgres-fdw.html": "application_name truncation",
      "runtime-config-logging.html": "application_name and cluster_name length",
      "sql-createoperator.html": "operator name length",
      "sql-createtype.html": "enum label and array type name length",
      "tutorial-createdb.html": "database names only",
    },
  },
  "pg-014": {
    short: true,
    pages: {
      "routine-vacuuming.html": /VACUUM FULL requires an ACCESS EXCLUSIVE lock/,
      "sql-vacuum.html": /requires an ACCESS EXCLUSIVE lock on each table while it is being processed/,
      "explicit-locking.html": /VACUUM FULL , and REFRESH MATERIALIZED VIEW/,
    },
    term: /VACUUM FULL/,
    excluded: {
      "ddl-system-columns.html": "ctid changes",
      "monitoring-stats.html": "progress view list",
      "progress-reporting.html": "progress view",
      "runtime-config-resource.html": "freeing space",
      "sql-altertable.html": "rewrite options",
    },
  },
  "pg-015": {
    deep: true,
    pages: {
      "datatype-datetime.html":
        /the value is stored internally as UTC, and the originally stated or assumed time zone is not retained/,
    },
    term: /stored internally (as|in) UTC|always stored in UTC/,
    excluded: {},
  },
  "pg-016": {
    pages: {
      "indexes-unique.html": /The NULLS NOT DISTINCT option modifies this/,
      "ddl-constraints.html": /two null values are not considered equal in this comparison/,
      "sql-createtable.html": /null values are not considered equal, unless NULLS NOT DISTINCT is specified/,
      "sql-createindex.html":
        /NULLS NOT DISTINCT Specifies whether for a unique index, null values should be considered distinct/,
    },
    term: /NULLS NOT DISTINCT/,
    excluded: {},
  },
  "pg-017": {
    deep: true,
    pages: {
      "ddl-partitioning.html":
        /Inserting data into the parent table that does not map to one of the existing partitions will cause an error/,
      "sql-createtable.html":
        /A partition key value not fitting into any other partition of the given parent will be routed to the default partition/,
    },
    term: /does not map to one of the existing partitions|not fitting into any other partition|routed to the default partition/,
    excluded: {},
  },

  "pg-018": {
    deep: true,
    pages: {
      "functions-string.html":
        /Concatenates the text representations of all the arguments\. NULL arguments are ignored/,
    },
    term: /NULL arguments are ignored|concat_ws/,
    excluded: {},
  },

  "pg-019": {
    pages: {
      "mvcc-intro.html":
        /locks acquired for querying \(reading\) data do not conflict with locks acquired for writing data/,
    },
    term: /reading never blocks writing|do not conflict with locks acquired for writing|readers never block writers/,
    excluded: {},
  },
  "pg-020": {
    short: true,
    pages: {
      "datatype-numeric.html": /gaps in the sequence of values which appears in the column/,
      "sql-createsequence.html": /Because nextval and setval calls are never rolled back/,
      "functions-sequence.html": /transaction aborts or database crashes can result in gaps in the sequence/,
    },
    term: /never rolled back|gapless|gaps in the sequence/,
    excluded: {},
  },
  "pg-021": {
    pages: {
      "storage-hot.html": /sufficient page space for HOT updates by decreasing a table's fillfactor/,
      "sql-createtable.html": /fillfactor \( integer \) The fillfactor for a table is a percentage/,
    },
    term: /fillfactor/,
    excluded: {
      "pgbench.html": "pgbench option",
      "sql-alterindex.html": "index fillfactor example",
      "sql-altertable.html": "lock level for storage parameters",
      "sql-cluster.html": "keeps cluster order; not about update cost",
      "sql-createindex.html": "index page fillfactor",
      "sql-reindex.html": "when to reindex",
    },
  },
  "pg-022": {
    pages: {
      "glossary.html":
        /large attributes of table rows are split and stored in a secondary table, called the TOAST table/,
      "storage-toast.html": /PostgreSQL uses a fixed page size/,
    },
    term: /out-of-line|out of line|secondary table|secondary storage area|too wide to fit|too large to keep/,
    excluded: {
      "catalog-pg-class.html": "catalog column note, aside",
      "datatype-bit.html": "aside pointing to character types",
      "disk-usage.html": "aside about the extra TOAST file in a size count",
      "libpq-example.html": "out-of-line query parameters",
      "limits.html": "aside in a limits table",
      "lo-intro.html": "aside comparing large objects with TOAST",
      "spgist-extensibility.html": "SP-GiST API rule",
      "spi-interface.html": "SPI parameters",
      "spi-spi-execute-extended.html": "SPI parameters",
      "spi-spi-execute-with-args.html": "SPI parameters",
      "spi.html": "SPI parameters",
      "sql-expressions.html": "query parameters",
      "storage-file-layout.html": "aside in the file layout description",
      "xfunc-c.html": "C function API",
    },
  },
  "pg-023": {
    pages: {
      "brin-intro.html":
        /BRIN is designed for handling very large tables in which certain columns have some natural correlation/,
      "indexes-types.html": /BRIN indexes \(a shorthand for Block Range INdexes\)/,
    },
    term: /natural correlation|Block Range IN|block range/i,
    excluded: {
      "brin-builtin-opclasses.html": "operator class parameters",
      "brin-extensibility.html": "operator class internals",
      "sql-createindex.html": "pages_per_range parameter",
    },
  },
  "pg-024": {
    pages: {
      "sql-createindex.html": /A partial index is an index that contains entries for only a portion of a table/,
      "indexes-partial.html": /A partial index is an index built over a subset of a table/,
    },
    term: /partial index/,
    excluded: {
      "biblio.html": "bibliography",
      "catalog-pg-index.html": "catalog column",
      "ddl-constraints.html": "unique partial index mentioned as an aside",
      "explicit-locking.html": "foreign key locking aside",
      "hash-intro.html": "aside on hash indexes",
      "index-functions.html": "index AM API",
      "indexes-index-only-scans.html": "interaction with index-only scans",
      "sql-altertable.html": "restriction on constraint indexes",
      "sql-createtable.html": "EXCLUDE constraint predicate",
      "sql-insert.html": "ON CONFLICT inference",
      "storage-hot.html": "HOT condition",
    },
  },
  "pg-025": {
    pages: {
      "ddl-rowsecurity.html": /row security policies that restrict, on a per-user basis, which rows/,
      "sql-createpolicy.html": /CREATE POLICY command defines a new row-level security policy/,
    },
    term: /row security polic|row-level security polic|ROW LEVEL SECURITY/i,
    excluded: {
      "catalog-pg-authid.html": "catalog column",
      "catalog-pg-policy.html": "catalog",
      "ddl-inherit.html": "policies with inheritance",
      "ddl.html": "table of contents",
      "logical-replication-security.html": "replication and policies",
      "perm-functions.html": "security warning",
      "reference.html": "command list",
      "runtime-config-client.html": "row_security setting",
      "sql-alterpolicy.html": "changing a policy",
      "sql-altertable.html": "switch syntax only",
      "sql-commands.html": "command list",
      "sql-createfunction.html": "leakproof note",
      "sql-createview.html": "views over protected tables",
      "sql-droppolicy.html": "removing a policy",
      "sql.html": "table of contents",
      "view-pg-policies.html": "system view",
      "view-pg-roles.html": "system view",
      "view-pg-shadow.html": "system view",
      "view-pg-user.html": "system view",
    },
  },
  "pg-026": {
    deep: true,
    pages: { "datatype-json.html": /Order of array elements is not significant/ },
    term: /Order of array elements|Duplicate array elements/i,
    excluded: {},
  },

  "pg-027": {
    error:
      "ERROR:  deadlock detected DETAIL:  Process 4242 waits for ShareLock on transaction 901; blocked by process 4317.",
    pages: {
      "sql-lock.html":
        /To avoid deadlocks, make sure all transactions acquire locks on the same objects in the same order/,
      "explicit-locking.html": /The best defense against deadlocks is generally to avoid them/,
    },
    term: /deadlocks/,
    excluded: {
      "fdw-row-locking.html": "FDW locking",
      "libpq-pipeline-mode.html": "client/server pipeline deadlocks",
      "monitoring-stats.html": "deadlock counter",
      "runtime-config-developer.html": "debug setting",
      "runtime-config-locks.html": "deadlock_timeout: when checks run, not prevention",
      "sql-merge.html": "aside on MERGE row order",
    },
  },
  "pg-028": {
    error: 'FATAL:  no pg_hba.conf entry for host "10.0.3.17", user "shop", database "shop", no encryption',
    pages: {
      "client-authentication-problems.html": /FATAL: no pg_hba\.conf entry for host/,
      "auth-pg-hba-conf.html": /If no record matches, access is denied/,
    },
    term: /no pg_hba\.conf entry|If no record matches/,
    excluded: {},
  },
  "pg-029": {
    deep: true,
    error: "ERROR:  canceling statement due to conflict with recovery",
    pages: {
      "hot-standby.html":
        /max_standby_archive_delay and max_standby_streaming_delay , that define the maximum allowed delay/,
      "runtime-config-replication.html": /hot_standby_feedback \( boolean \)/,
    },
    term: /hot_standby_feedback|max_standby_streaming_delay/,
    excluded: {
      "monitoring-stats.html": "view column",
      "protocol-replication.html": "protocol detail",
      "warm-standby.html": "aside comparing slots with feedback",
    },
  },
  "pg-030": {
    error: 'ERROR:  column "amount" cannot be cast automatically to type integer',
    pages: {
      "ddl-alter.html": /add a USING clause that specifies how to compute the new values from the old/,
      "sql-altertable.html": /The optional USING clause specifies how to compute the new column value from the old/,
    },
    term: /USING clause/,
    excluded: {
      "ddl-rowsecurity.html": "policy USING clause",
      "ecpg-commands.html": "ECPG EXECUTE USING",
      "ecpg-dynamic.html": "ECPG EXECUTE USING",
      "plpgsql-statements.html": "EXECUTE USING",
      "queries-table-expressions.html": "join USING",
      "sql-createpolicy.html": "policy USING",
      "sql-delete.html": "DELETE USING",
      "sql-select.html": "join and ORDER BY USING",
    },
  },
  "pg-031": {
    deep: true,
    error: 'WARNING:  database "orders" must be vacuumed within 10985967 transactions',
    pages: { "routine-vacuuming.html": /must be vacuumed within \d+ transactions/ },
    term: /must be vacuumed within/,
    excluded: {},
  },
  "pg-032": {
    error:
      'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory',
    pages: {
      "tutorial-createdb.html": /This means that the server was not started/,
      "server-start.html": /failed: No such file or directory Is the server running locally/,
    },
    term: /No such file or directory/,
    excluded: {
      "install-post.html": "shared library error",
      "kernel-resources.html": "shared memory warning",
      "libpq-build.html": "compiler error",
      "pgsurgery.html": "corruption example",
    },
  },
  "pg-033": {
    error: "ERROR:  could not serialize access due to concurrent update",
    pages: {
      "mvcc-serialization-failure-handling.html":
        /must be prepared to retry transactions that fail due to serialization errors/,
      "transaction-iso.html": /could not serialize access due to concurrent update/,
    },
    term: /could not serialize access|serialization failure/,
    excluded: {
      "applevel-consistency.html": "advice to use a retry framework, aside",
      "pgbench.html": "pgbench failure counting",
      "sql-select.html": "aside on locking order",
      "sql-set-transaction.html": "DEFERRABLE read-only mode",
      "sql-update.html": "partition row movement",
    },
  },
  "pg-034": {
    deep: true,
    pages: {
      "runtime-config-resource.html":
        /work_mem \( integer \) Sets the base maximum amount of memory to be used by a query operation/,
    },
    term: /(?<![a-z_])work_mem/,
    excluded: {
      "app-postgres.html": "command-line switch that sets it",
      "kernel-resources.html": "out-of-memory advice",
      "plpgsql-control-structures.html": "RETURN NEXT buffering",
      "regress-evaluation.html": "test output",
      "regress-run.html": "test setup",
      "runtime-config-query.html": "partitionwise plans",
      "runtime-config-short.html": "short option table",
    },
  },
  "pg-035": {
    short: true,
    pages: {
      "runtime-config-logging.html":
        /log_min_duration_statement \( integer \) Causes the duration of each completed statement to be logged/,
      "auto-explain.html": /auto_explain\.log_min_duration \( integer \)/,
    },
    term: /log_min_duration_statement|auto_explain\.log_min_duration/,
    excluded: {},
  },
  "pg-036": {
    pages: {
      "runtime-config-connection.html": /listen_addresses \( string \) Specifies the TCP\/IP address/,
      "auth-pg-hba-conf.html": /host This record matches connection attempts made using TCP\/IP/,
    },
    term: /listen_addresses/,
    excluded: {
      "app-postgres.html": "deprecated -i switch, points to listen_addresses",
      "runtime-config-short.html": "short option table",
      "ssh-tunnels.html": "aside in SSH tunnel setup",
      "warm-standby.html": "standby setup step",
    },
  },
  "pg-037": {
    deep: true,
    pages: {
      "transaction-iso.html":
        /idle_in_transaction_session_timeout may be used to automatically disconnect lingering sessions/,
      "runtime-config-client.html": /idle_in_transaction_session_timeout \( integer \) Terminate any session/,
    },
    term: /idle_in_transaction_session_timeout/,
    excluded: {
      "errcodes-appendix.html": "error code list",
    },
  },
  "pg-038": {
    pages: {
      "runtime-config-autovacuum.html": /can be overridden for individual tables by changing table storage parameters/,
      "sql-createtable.html": /autovacuum_vacuum_scale_factor \( floating point \) Per-table value/,
      "routine-vacuuming.html": /on a per-table basis; see Storage Parameters/,
    },
    term: /autovacuum_vacuum_scale_factor/,
    excluded: {},
  },
  "pg-039": {
    deep: true,
    pages: {
      "runtime-config-query.html":
        /Reducing this value relative to seq_page_cost will cause the system to prefer index scans/,
    },
    term: /random_page_cost/,
    excluded: {
      "index-cost-estimation.html": "index AM cost estimator API",
      "sql-altertablespace.html": "per-tablespace override, no SSD advice",
      "sql-createtablespace.html": "per-tablespace override, no SSD advice",
      "transaction-iso.html": "aside for serializable tuning",
    },
  },
  "pg-040": {
    pages: {
      "libpq-connect.html": /passfile Specifies the name of the file used to store passwords/,
      "libpq-pgpass.html": /The file \.pgpass in a user's home directory can contain passwords/,
    },
    term: /\.pgpass|pgpass\.conf|PGPASSFILE/,
    excluded: {
      "app-clusterdb.html": "client option text pointing to the password file, aside",
      "app-createdb.html": "client option text pointing to the password file, aside",
      "app-createuser.html": "client option text pointing to the password file, aside",
      "app-dropdb.html": "client option text pointing to the password file, aside",
      "app-dropuser.html": "client option text pointing to the password file, aside",
      "app-pg-dumpall.html": "client option text pointing to the password file, aside",
      "app-pgamcheck.html": "client option text pointing to the password file, aside",
      "app-pgbasebackup.html": "client option text pointing to the password file, aside",
      "app-pgdump.html": "client option text pointing to the password file, aside",
      "app-pgreceivewal.html": "client option text pointing to the password file, aside",
      "app-pgrecvlogical.html": "client option text pointing to the password file, aside",
      "app-pgrestore.html": "client option text pointing to the password file, aside",
      "app-psql.html": "client option text pointing to the password file, aside",
      "app-reindexdb.html": "client option text pointing to the password file, aside",
      "app-vacuumdb.html": "client option text pointing to the password file, aside",
      "contrib-dblink-connect-u.html": "aside: password file for a replication, upgrade or server-side connection",
      "libpq-envars.html": "PGPASSFILE/PGPASSWORD pointers to the password file",
      "pgupgrade.html": "aside: password file for a replication, upgrade or server-side connection",
      "postgres-fdw.html": "aside: password file for a replication, upgrade or server-side connection",
      "runtime-config-replication.html": "aside: password file for a replication, upgrade or server-side connection",
      "vacuumlo.html": "client option text pointing to the password file, aside",
      "warm-standby.html": "aside: password file for a replication, upgrade or server-side connection",
    },
  },
};
