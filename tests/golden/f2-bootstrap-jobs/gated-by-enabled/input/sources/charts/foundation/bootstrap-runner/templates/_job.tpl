{{- /*
bootstrap-runner.job: one bootstrap Job, run as an Argo CD hook.

  include "bootstrap-runner.job" (dict
    "root" .                       the calling chart's context (required)
    "name" "my-chart-migrate"      Job name (required)
    "container" (include "my-chart.migrate.container" .)   the container, as YAML (required)
    "labels" (include "my-chart.labels" .)                  labels, as YAML
    "hook" "PreSync"               Argo CD hook phase(s) (default Sync)
    "deletePolicy" "BeforeHookCreation"   (always includes BeforeHookCreation)
    "wave" "-1"                    argocd.argoproj.io/sync-wave
    "restartPolicy" "Never"        Never (default) or OnFailure
    "backoffLimit" 3  "activeDeadlineSeconds" 900          override the library defaults
    "serviceAccountName" "..."  "volumes" (list ...)  "podFailurePolicy" (dict ...)
    "waitFor" (list (dict "tcp" "host:5432") (dict "http" "http://x/healthz") (dict "dns" "svc")
                    (dict "resource" "deployment/x" "condition" "Available")))

Every wait is an init container bounded by waitTimeoutSeconds; the Job by activeDeadlineSeconds.
The script in the container must tolerate re-runs: hooks run on every sync.
*/ -}}
{{- define "bootstrap-runner.job" -}}
{{- $root := required "bootstrap-runner.job needs root" .root -}}
{{- $cfg := index $root.Values "bootstrap-runner" | default dict -}}
{{- $deadline := int (.activeDeadlineSeconds | default $cfg.activeDeadlineSeconds | default 900) -}}
{{- $backoff := int (hasKey . "backoffLimit" | ternary .backoffLimit (hasKey $cfg "backoffLimit" | ternary $cfg.backoffLimit 3)) -}}
{{- /* Helm does not validate a library's schema against its parent's values: check here. */ -}}
{{- if lt $deadline 1 }}{{ fail "bootstrap-runner: activeDeadlineSeconds must be a positive number of seconds" }}{{ end -}}
{{- if lt $backoff 0 }}{{ fail "bootstrap-runner: backoffLimit must not be negative" }}{{ end -}}
{{- $policy := .deletePolicy | default "BeforeHookCreation" -}}
{{- if not (contains "BeforeHookCreation" $policy) }}{{ $policy = printf "BeforeHookCreation,%s" $policy }}{{ end -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ required "bootstrap-runner.job needs name" .name }}
  {{- with .labels }}
  labels:
    {{- . | nindent 4 }}
  {{- end }}
  annotations:
    argocd.argoproj.io/hook: {{ .hook | default "Sync" }}
    argocd.argoproj.io/hook-delete-policy: {{ $policy }}
    {{- with .wave }}
    argocd.argoproj.io/sync-wave: {{ . | quote }}
    {{- end }}
spec:
  backoffLimit: {{ $backoff }}
  activeDeadlineSeconds: {{ $deadline }}
  ttlSecondsAfterFinished: {{ hasKey $cfg "ttlSecondsAfterFinished" | ternary $cfg.ttlSecondsAfterFinished 3600 }}
  {{- with .podFailurePolicy }}
  podFailurePolicy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  template:
    {{- with .labels }}
    metadata:
      labels:
        {{- . | nindent 8 }}
    {{- end }}
    spec:
      restartPolicy: {{ .restartPolicy | default "Never" }}
      {{- with .serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      {{- with $cfg.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .waitFor }}
      initContainers:
        {{- range $index, $wait := . }}
        - name: wait-{{ $index }}
          image: {{ required "bootstrap-runner: set bootstrap-runner.toolbox.image to wait for dependencies" ($cfg.toolbox | default dict).image }}
          command: ["/bin/sh", "-c"]
          args:
            - |
              {{- $timeout := $wait.timeoutSeconds | default $cfg.waitTimeoutSeconds | default 300 }}
              {{- if $wait.tcp }}
              timeout {{ $timeout }} sh -c 'until nc -z {{ splitList ":" $wait.tcp | first }} {{ splitList ":" $wait.tcp | last }}; do sleep 2; done'
              {{- else if $wait.http }}
              timeout {{ $timeout }} sh -c 'until wget -q -O /dev/null {{ $wait.http }}; do sleep 2; done'
              {{- else if $wait.dns }}
              timeout {{ $timeout }} sh -c 'until nslookup {{ $wait.dns }} >/dev/null; do sleep 2; done'
              {{- else if $wait.resource }}
              kubectl wait --for=condition={{ $wait.condition | default "Available" }} {{ $wait.resource }} --timeout={{ $timeout }}s
              {{- else }}
              {{- fail "bootstrap-runner: a waitFor entry needs tcp, http, dns or resource" }}
              {{- end }}
        {{- end }}
      {{- end }}
      containers:
        - {{ .container | trim | nindent 10 | trim }}
      {{- with .volumes }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
