"""The project's calendars: timetable classes its dags name by their Python path."""

try:
    # Airflow 3.2 and later: the task SDK's own timetables.
    from airflow.sdk import DeltaTriggerTimetable
except ImportError:
    from airflow.timetables.trigger import DeltaTriggerTimetable

# Shifts of a fixed length, each run covering the shift before it. The class itself,
# under the project's name for it: Airflow serializes its own timetable classes
# without a plugin, which a subclass would need.
Shifts = DeltaTriggerTimetable
