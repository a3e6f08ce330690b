"""Operations: alerts, locks, due dates and reminders, reprocessing from the archive, the local
Airflow UI. The DAG files call these; nothing here is imported at DAG parse time except the
alert callbacks (which import nothing heavy until they run)."""
