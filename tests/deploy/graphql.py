"""What the test asks the webserver, over the GraphQL API its UI uses."""

import json
import urllib.request

REPOSITORIES = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"

SCHEDULE = """
query Schedule($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { id scheduleState { status ticks(limit: 50) { timestamp status runIds } } }
  }
}
"""

STOP_SCHEDULE = """
mutation Stop($id: String!) {
  stopRunningSchedule(id: $id) { __typename ... on PythonError { message } }
}
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

CHECK = """
query Check($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks {
            name
            executionForLatestMaterialization {
              status
              evaluation {
                success description
                metadataEntries { label ... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text } }
              }
            }
          }
        }
      }
    }
  }
}
"""


class Client:
    def __init__(self, url: str):
        self.url = url

    def __call__(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload.get("errors")
        return payload["data"]

    def ready(self) -> bool:
        try:
            return bool(self(REPOSITORIES)["repositoriesOrError"].get("nodes"))
        except (OSError, AssertionError, KeyError):
            return False

    def repository(self) -> dict[str, str]:
        node = self(REPOSITORIES)["repositoriesOrError"]["nodes"][0]
        return {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"]}

    def schedule(self, name: str) -> dict:
        result = self(SCHEDULE, {"selector": {**self.repository(), "scheduleName": name}})["scheduleOrError"]
        assert result["__typename"] == "Schedule", result
        return result

    def stop_schedule(self, name: str) -> None:
        result = self(STOP_SCHEDULE, {"id": self.schedule(name)["id"]})["stopRunningSchedule"]
        assert result["__typename"] == "ScheduleStateResult", result

    def launch(self, job: str, asset_paths: list[list[str]] | None = None) -> str:
        """A run as the UI launches it: a job from the launchpad, or assets from the Materialize button."""
        selector = {**self.repository(), "jobName": job}
        if asset_paths:
            selector["assetSelection"] = [{"path": p} for p in asset_paths]
        params = {"selector": selector, "mode": "default", "runConfigData": {}}
        result = self(LAUNCH, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def check(self, path: list[str], name: str) -> dict | None:
        node = self(CHECK, {"key": {"path": path}})["assetNodeOrError"]
        checks = node["assetChecksOrError"]["checks"]
        return next(c for c in checks if c["name"] == name)["executionForLatestMaterialization"]

SENSOR_TICKS = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 5) { timestamp status } } }
  }
}
"""


def sensor_ticks(client: Client, name: str) -> list[dict]:
    selector = {**client.repository(), "sensorName": name}
    return client(SENSOR_TICKS, {"selector": selector})["sensorOrError"]["sensorState"]["ticks"]
