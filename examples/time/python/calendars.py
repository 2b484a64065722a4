"""The project's calendars: timetable classes its dags name by their Python path."""

try:
    # Airflow 3.2 and later: the task SDK's own timetables.
    from airflow.sdk import EventsTimetable
except ImportError:
    from airflow.timetables.events import EventsTimetable

# The class itself, under the project's name for it: Airflow serializes a timetable of
# its own classes without a plugin, which a subclass would need.
QuarterEnds = EventsTimetable
