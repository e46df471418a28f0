{{/* Chart name: the app.kubernetes.io/name label `sealkit cert` looks for. */}}
{{- define "sealkit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of every object. The release name itself (not "<release>-sealkit"), so that
`helm install sealed-secrets-controller ... -n kube-system` gives the Service name and namespace
kubeseal and `sealkit cert` use by default.
*/}}
{{- define "sealkit.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealkit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sealkit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sealkit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sealkit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sealkit
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sealkit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealkit.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sealkit.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces watched when allNamespaces is false: the release's own plus the listed ones. */}}
{{- define "sealkit.watchedNamespaces" -}}
{{- $all := append (.Values.controller.additionalNamespaces | default list) .Release.Namespace -}}
{{- $all | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/* "k=v,k2=v2" as the controller's --privatekey-labels/--privatekey-annotations take it. */}}
{{- define "sealkit.kvList" -}}
{{- $pairs := list -}}
{{- range $k, $v := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- $pairs | join "," -}}
{{- end -}}

{{/* The controller's rules in a watched namespace (see rbac-unsealer.yaml for why each is needed). */}}
{{- define "sealkit.unsealerRules" -}}
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  {{- if .Values.controller.oldGcBehavior }}
  verbs: ["get", "list", "watch", "create", "update", "delete"]
  {{- else }}
  verbs: ["get", "list", "watch", "create", "update"]
  {{- end }}
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{/*
The `sealkit controller` flags, one for every controller setting (all of them, defaults included, so
`kubectl describe` shows the whole configuration). Rendered as a YAML list and quoted one by one.
*/}}
{{/* "true" when more than one replica runs: then leader election is on. */}}
{{- define "sealkit.leaderElection" -}}
{{- gt (int .Values.replicaCount) 1 -}}
{{- end -}}

{{- define "sealkit.args" -}}
{{- $c := .Values.controller -}}
- {{ printf "--key-prefix=%s" $c.keyPrefix | quote }}
- {{ printf "--key-size=%d" (int $c.keySize) | quote }}
- {{ printf "--key-ttl=%s" $c.keyTTL | quote }}
- {{ printf "--my-cn=%s" $c.myCN | quote }}
- {{ printf "--key-renew-period=%s" $c.keyRenewPeriod | quote }}
- {{ printf "--key-cutoff-time=%s" $c.keyCutoffTime | quote }}
- {{ printf "--key-order-priority=%s" $c.keyOrderPriority | quote }}
- {{ printf "--privatekey-labels=%s" (include "sealkit.kvList" $c.privateKeyLabels) | quote }}
- {{ printf "--privatekey-annotations=%s" (include "sealkit.kvList" $c.privateKeyAnnotations) | quote }}
{{- if $c.watchForSecrets }}
- "--watch-for-secrets=true"
{{- end }}
- {{ printf "--update-status=%t" $c.updateStatus | quote }}
- {{ printf "--skip-recreate=%t" $c.skipRecreate | quote }}
- {{ printf "--max-unseal-retries=%d" (int $c.maxUnsealRetries) | quote }}
- {{ printf "--accept-deprecated-v1-data=%t" $c.acceptDeprecatedV1Data | quote }}
- {{ printf "--old-gc-behavior=%t" $c.oldGcBehavior | quote }}
- {{ printf "--all-namespaces=%t" $c.allNamespaces | quote }}
- {{ printf "--additional-namespaces=%s" ($c.additionalNamespaces | join ",") | quote }}
- {{ printf "--label-selector=%s" $c.labelSelector | quote }}
- {{ printf "--namespace-selector=%s" $c.namespaceSelector | quote }}
- "--listen-addr=:8080"
- "--listen-metrics-addr=:8081"
- {{ printf "--rate-limit=%v" $c.rateLimit | quote }}
- {{ printf "--rate-limit-burst=%d" (int $c.rateLimitBurst) | quote }}
- {{ printf "--trusted-proxies=%s" (join "," ($c.trustedProxies | default list)) | quote }}
- {{ printf "--read-timeout=%s" $c.readTimeout | quote }}
- {{ printf "--write-timeout=%s" $c.writeTimeout | quote }}
- {{ printf "--kubeclient-qps=%v" $c.kubeclientQps | quote }}
- {{ printf "--kubeclient-burst=%d" (int $c.kubeclientBurst) | quote }}
- {{ printf "--metrics-omit-secret-labels=%t" $c.metricsOmitSecretLabels | quote }}
{{- if not (kindIs "invalid" $c.workers) }}
- {{ printf "--workers=%d" (int $c.workers) | quote }}
{{- end }}
{{- if not (kindIs "invalid" $c.threads) }}
- {{ printf "--threads=%d" (int $c.threads) | quote }}
{{- end }}
- {{ printf "--escrow-vault=%s" $c.escrow.vault | quote }}
- {{ printf "--escrow-cluster-name=%s" $c.escrow.clusterName | quote }}
- {{ printf "--escrow-auth=%s" $c.escrow.auth | quote }}
- {{ printf "--escrow-accept-challenge-resource=%s" (join "," $c.escrow.acceptChallengeResources) | quote }}
- {{ printf "--escrow-timeout=%s" $c.escrow.timeout | quote }}
- {{ printf "--leader-elect=%t" (include "sealkit.leaderElection" . | eq "true") | quote }}
- {{ printf "--leader-elect-lease-name=%s" (include "sealkit.fullname" .) | quote }}
- {{ printf "--leader-elect-lease-duration=%s" $c.leaderElection.leaseDuration | quote }}
- {{ printf "--leader-elect-renew-deadline=%s" $c.leaderElection.renewDeadline | quote }}
- {{ printf "--leader-elect-retry-period=%s" $c.leaderElection.retryPeriod | quote }}
- {{ printf "--kek-url=%s" $c.kek.url | quote }}
- {{ printf "--kek-auth=%s" $c.kek.auth | quote }}
- {{ printf "--kek-accept-challenge-resource=%s" (join "," $c.kek.acceptChallengeResources) | quote }}
- {{ printf "--kek-timeout=%s" $c.kek.timeout | quote }}
- {{ printf "--log-level=%s" $c.logLevel | quote }}
- {{ printf "--log-format=%s" $c.logFormat | quote }}
- {{ printf "--log-info-stdout=%t" $c.logInfoStdout | quote }}
{{- end -}}
