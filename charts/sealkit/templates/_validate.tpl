{{/*
What values.schema.json cannot say (or cannot say clearly), refused at `helm install/upgrade/template`
time with one line naming the value: everything `sealkit controller` would refuse at start (its
Settings.validate, controller/sealkit_controller/settings.py) and what the API server would refuse in
the objects rendered here. A bad value fails in the pull request, not in a crash-looping pod.
The schema has run first: types, ranges and the syntax of durations and names are known good here.
*/}}

{{/* Seconds in a duration the schema has checked ("1h30m", ".5s", "0"; Prometheus' "1d", "2w", "1y" too). */}}
{{- define "sealkit.seconds" -}}
{{- $units := dict "ns" 1e-9 "us" 1e-6 "µs" 1e-6 "ms" 1e-3 "s" 1.0 "m" 60.0 "h" 3600.0 "d" 86400.0 "w" 604800.0 "y" 31536000.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h|d|w|y)" (toString .) -1 -}}
{{- $number := regexFind "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" . -}}
{{- $total = addf $total (mulf (float64 $number) (get $units (trimPrefix $number .))) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* A label key (a qualified name): an optional DNS subdomain prefix and "/", then at most 63 characters. */}}
{{- define "sealkit.isLabelKey" -}}
{{- $parts := splitList "/" . -}}
{{- $name := last $parts -}}
{{- $ok := and (le (len $parts) 2) (regexMatch "^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$" $name) -}}
{{- if and $ok (eq (len $parts) 2) -}}
{{- $prefix := first $parts -}}
{{- $ok = and (le (len $prefix) 253) (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" $prefix) -}}
{{- end -}}
{{- $ok -}}
{{- end -}}

{{/* Labels (a map the schema has checked holds strings): valid keys and values, none the chart sets itself. */}}
{{- define "sealkit.checkLabels" -}}
{{- $path := index . 0 -}}
{{- $reserved := index . 2 -}}
{{- range $key, $value := index . 1 -}}
{{- if ne (include "sealkit.isLabelKey" $key) "true" -}}
{{- fail (printf "%s: %q is not a valid label key (an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)" $path $key) -}}
{{- end -}}
{{- if not (regexMatch "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$" $value) -}}
{{- fail (printf "%s: %q: %q is not a valid label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)" $path $key $value) -}}
{{- end -}}
{{- if has $key $reserved -}}
{{- fail (printf "%s: %q is set by the chart (or commonLabels) on the same objects: leave it out (a second value is a duplicate key, or pods their selector misses)" $path $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* An IPv4 or IPv6 address, or a CIDR range of either (the second argument: the prefix is required). */}}
{{- define "sealkit.isNetwork" -}}
{{- $text := index . 0 -}}
{{- $needPrefix := index . 1 -}}
{{- $v4 := "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])" -}}
{{- $h := "[0-9A-Fa-f]{1,4}" -}}
{{- $v6 := printf "(%s:){7}%s|(%s:){1,7}:|(%s:){1,6}:%s|(%s:){1,5}(:%s){1,2}|(%s:){1,4}(:%s){1,3}|(%s:){1,3}(:%s){1,4}|(%s:){1,2}(:%s){1,5}|%s:(:%s){1,6}|:((:%s){1,7}|:)" $h $h $h $h $h $h $h $h $h $h $h $h $h $h $h $h -}}
{{- $suffix := ternary "" "?" $needPrefix -}}
{{- or (regexMatch (printf "^%s(/(3[0-2]|[12][0-9]|[0-9]))%s$" $v4 $suffix) $text) (regexMatch (printf "^(%s)(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))%s$" $v6 $suffix) $text) -}}
{{- end -}}

{{- define "sealkit.validate" -}}

{{- /* Every value the templates read without a default of their own. One goes missing when set to null
(`--set key=null` drops a default) or on `helm upgrade --reuse-values` from a chart version without it:
Helm then keeps the old version's defaults, not this one's. Without this check: a nil-pointer error deep
in a template, or a flag rendered as "%!s(<nil>)" that the controller refuses at start. */}}
{{- range $path := list
  "image" "image.repository" "image.pullPolicy" "replicaCount"
  "controller" "controller.keyPrefix" "controller.keySize" "controller.keyTTL" "controller.myCN"
  "controller.keyRenewPeriod" "controller.keyCutoffTime" "controller.keyOrderPriority" "controller.watchForSecrets"
  "controller.updateStatus" "controller.skipRecreate" "controller.maxUnsealRetries" "controller.acceptDeprecatedV1Data"
  "controller.oldGcBehavior" "controller.allNamespaces" "controller.labelSelector" "controller.namespaceSelector"
  "controller.rateLimit" "controller.rateLimitBurst" "controller.readTimeout" "controller.writeTimeout"
  "controller.kubeclientQps" "controller.kubeclientBurst" "controller.metricsOmitSecretLabels"
  "controller.escrow" "controller.escrow.vault" "controller.escrow.clusterName" "controller.escrow.auth"
  "controller.escrow.timeout" "controller.leaderElection" "controller.leaderElection.leaseDuration"
  "controller.leaderElection.renewDeadline" "controller.leaderElection.retryPeriod" "controller.kek"
  "controller.kek.url" "controller.kek.auth" "controller.kek.timeout" "controller.logLevel" "controller.logFormat"
  "controller.logInfoStdout" "serviceAccount" "serviceAccount.create" "rbac" "rbac.create" "rbac.serviceProxier"
  "rbac.serviceProxier.create" "rbac.serviceProxier.subjects" "service" "service.type" "service.port" "metrics"
  "metrics.port" "metrics.service" "metrics.service.enabled" "metrics.serviceMonitor"
  "metrics.serviceMonitor.enabled" "metrics.serviceMonitor.interval" "metrics.serviceMonitor.scrapeTimeout"
  "networkPolicy" "networkPolicy.enabled" "networkPolicy.apiServer" "networkPolicy.apiServer.cidrs"
  "networkPolicy.apiServer.ports" "pdb" "pdb.enabled" "securityContext" "securityContext.runAsUser"
  "securityContext.runAsGroup" "securityContext.fsGroup" "tmpSizeLimit" "livenessProbe" "readinessProbe" -}}
{{- $node := $.Values -}}
{{- range splitList "." $path -}}
{{- if kindIs "map" $node -}}{{- $node = index $node . -}}{{- else -}}{{- $node = nil -}}{{- end -}}
{{- end -}}
{{- if kindIs "invalid" $node -}}
{{- fail (printf "%s is missing (set to null? After `helm upgrade --reuse-values` from an older chart version, which keeps that version's defaults: upgrade with --reset-then-reuse-values, or pass your values file)" $path) -}}
{{- end -}}
{{- end -}}

{{- $c := .Values.controller -}}

{{- /* Object names: the Service's is a DNS-1035 label; the metrics Service adds "-metrics". */}}
{{- $fullname := include "sealkit.fullname" . -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $fullname) -}}
{{- fail (printf "fullnameOverride (else the release name): %q cannot name the Service: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit" $fullname) -}}
{{- end -}}
{{- if and .Values.metrics.service.enabled (gt (len (printf "%s-metrics" $fullname)) 63) -}}
{{- fail (printf "fullnameOverride (else the release name): %q is too long for the metrics Service %q (at most 63 characters): use at most 55" $fullname (printf "%s-metrics" $fullname)) -}}
{{- end -}}

{{- /* Labels: valid, and never one the chart sets (a duplicate key, or pods the selector misses). */}}
{{- $chartLabels := list "helm.sh/chart" "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/version" "app.kubernetes.io/managed-by" "app.kubernetes.io/part-of" "app.kubernetes.io/component" -}}
{{- include "sealkit.checkLabels" (list "commonLabels" .Values.commonLabels $chartLabels) -}}
{{- include "sealkit.checkLabels" (list "podLabels" .Values.podLabels (list "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/component")) -}}
{{- include "sealkit.checkLabels" (list "metrics.serviceMonitor.labels" .Values.metrics.serviceMonitor.labels (concat $chartLabels (keys (.Values.commonLabels | default dict)))) -}}
{{- include "sealkit.checkLabels" (list "nodeSelector" .Values.nodeSelector list) -}}
{{- include "sealkit.checkLabels" (list "controller.privateKeyLabels" $c.privateKeyLabels list) -}}
{{- /* --privatekey-annotations is "k=v,k2=v2": a ',' in a value would split it into another annotation. */}}
{{- range $key, $value := $c.privateKeyAnnotations -}}
{{- if ne (include "sealkit.isLabelKey" (lower $key)) "true" -}}
{{- fail (printf "controller.privateKeyAnnotations: %q is not a valid annotation key (an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.')" $key) -}}
{{- end -}}
{{- if or (contains "," $value) (ne $value (trim $value)) -}}
{{- fail (printf "controller.privateKeyAnnotations: %q: the controller's flag cannot carry a value with ',' or leading/trailing spaces (%q)" $key $value) -}}
{{- end -}}
{{- end -}}

{{- /* Go durations: at most Go's longest; these must be positive; client-go's leader election rules. The
controller holds durations in whole microseconds (Python's timedelta): "1ns" is 0 there. Comparisons
below round each side the way that can only refuse more than the controller does. */}}
{{- $longest := 9223372036.853 -}}
{{- $escrowOn := and $c.escrow.vault $c.escrow.clusterName -}}
{{- $durations := list
  (list "controller.keyTTL" $c.keyTTL true)
  (list "controller.keyRenewPeriod" $c.keyRenewPeriod false)
  (list "controller.readTimeout" $c.readTimeout true)
  (list "controller.writeTimeout" $c.writeTimeout true)
  (list "controller.escrow.timeout" $c.escrow.timeout $escrowOn)
  (list "controller.kek.timeout" $c.kek.timeout true)
  (list "controller.leaderElection.leaseDuration" $c.leaderElection.leaseDuration false)
  (list "controller.leaderElection.renewDeadline" $c.leaderElection.renewDeadline false)
  (list "controller.leaderElection.retryPeriod" $c.leaderElection.retryPeriod false) -}}
{{- range $durations -}}
{{- $seconds := include "sealkit.seconds" (index . 1) | float64 -}}
{{- if gt $seconds $longest -}}
{{- fail (printf "%s: %q is longer than a Go duration can be (at most 2562047h47m16s)" (index . 0) (index . 1)) -}}
{{- end -}}
{{- if and (index . 2) (lt (floor (mulf $seconds 1e6)) 1.0) -}}
{{- fail (printf "%s: %q must be at least 1us (a Go duration such as 30s, 2m or 720h)" (index . 0) (index . 1)) -}}
{{- end -}}
{{- end -}}
{{- $le := $c.leaderElection -}}
{{- $lease := floor (mulf (include "sealkit.seconds" $le.leaseDuration | float64) 1e6) -}}
{{- $renew := mulf (include "sealkit.seconds" $le.renewDeadline | float64) 1e6 -}}
{{- $retry := mulf (include "sealkit.seconds" $le.retryPeriod | float64) 1e6 -}}
{{- if lt $lease 1e6 -}}
{{- fail (printf "controller.leaderElection.leaseDuration: %q must be at least 1s" $le.leaseDuration) -}}
{{- end -}}
{{- if not (and (ge (floor $renew) 1.0) (lt (ceil $renew) (mulf (floor (divf $lease 1e6)) 1e6))) -}}
{{- fail (printf "controller.leaderElection.renewDeadline: %q must be longer than 0 and shorter than leaseDuration (%q, in whole seconds)" $le.renewDeadline $le.leaseDuration) -}}
{{- end -}}
{{- if not (and (ge (floor $retry) 1.0) (lt (mulf (ceil $retry) 1.2) (floor $renew))) -}}
{{- fail (printf "controller.leaderElection.retryPeriod: %q must be longer than 0, and 1.2 times it shorter than renewDeadline (%q)" $le.retryPeriod $le.renewDeadline) -}}
{{- end -}}
{{- with .Values.metrics.serviceMonitor -}}
{{- if and .enabled (gt (include "sealkit.seconds" .scrapeTimeout | float64) (include "sealkit.seconds" .interval | float64)) -}}
{{- fail (printf "metrics.serviceMonitor.scrapeTimeout: %q is longer than the interval (%q): Prometheus refuses it" .scrapeTimeout .interval) -}}
{{- end -}}
{{- end -}}

{{- /* --key-cutoff-time: RFC 1123Z or ISO 8601 (the forms Go reads here; the controller reads more). */}}
{{- with $c.keyCutoffTime -}}
{{- $parsed := false -}}
{{- range list "Mon, 02 Jan 2006 15:04:05 -0700" "2006-01-02T15:04:05Z07:00" "2006-01-02T15:04:05" "2006-01-02 15:04:05" "2006-01-02" -}}
{{- if ne ((toDate . $c.keyCutoffTime).Year) 1 -}}{{- $parsed = true -}}{{- end -}}
{{- end -}}
{{- if not $parsed -}}
{{- fail (printf "controller.keyCutoffTime: %q is neither RFC 1123Z (Mon, 02 Jan 2006 15:04:05 -0700) nor ISO 8601 (2006-01-02T15:04:05Z)" $c.keyCutoffTime) -}}
{{- end -}}
{{- end -}}

{{- /* X.509 allows a common name of at most 64 bytes: a longer one fails every new key. */}}
{{- if gt (len $c.myCN) 64 -}}
{{- fail (printf "controller.myCN: %q is %d bytes long: a certificate's common name has at most 64" $c.myCN (len $c.myCN)) -}}
{{- end -}}

{{- /* Label selectors, as the controller parses them (reconciling/selectors.py). */}}
{{- $key := "[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?" -}}
{{- $value := "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?" -}}
{{- $requirement := printf "\\s*(!?\\s*%s|%s\\s*(==|!=|=)\\s*(%s)?|%s\\s+(in|notin)\\s+\\(\\s*%s\\s*(,\\s*%s\\s*)*\\))\\s*" $key $key $value $key $value $value -}}
{{- $selector := printf "^(\\s*|%s(,%s)*)$" $requirement $requirement -}}
{{- range list (list "controller.labelSelector" $c.labelSelector) (list "controller.namespaceSelector" $c.namespaceSelector) -}}
{{- if not (regexMatch $selector (index . 1)) -}}
{{- fail (printf "%s: %q is not a label selector (requirements separated by ',': key, !key, key=value, key!=value, key in (a,b), key notin (a,b))" (index . 0) (index . 1)) -}}
{{- end -}}
{{- end -}}

{{- /* Addresses: what the controller's --trusted-proxies takes, and CIDRs the NetworkPolicy can hold. */}}
{{- range $c.trustedProxies -}}
{{- if ne (include "sealkit.isNetwork" (list . false)) "true" -}}
{{- fail (printf "controller.trustedProxies: %q is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.1 or fd00::/8)" .) -}}
{{- end -}}
{{- end -}}
{{- range .Values.networkPolicy.apiServer.cidrs -}}
{{- if ne (include "sealkit.isNetwork" (list . true)) "true" -}}
{{- fail (printf "networkPolicy.apiServer.cidrs: %q is not a CIDR range (e.g. 10.0.0.1/32 or fd00::1/128)" .) -}}
{{- end -}}
{{- end -}}

{{- /* The image reference the kubelet pulls (an invalid one: InvalidImageName, a pod that never starts). */}}
{{- $component := "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*" -}}
{{- $domain := "([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\\.)*[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(:[0-9]+)?" -}}
{{- if not (and (le (len .Values.image.repository) 255) (regexMatch (printf "^(%s/)?%s(/%s)*$" $domain $component $component) .Values.image.repository)) -}}
{{- fail (printf "image.repository: %q is not an image name (e.g. ghcr.io/sealkit/sealkit: lower-case path components, no tag or digest: those go in image.tag and image.digest)" .Values.image.repository) -}}
{{- end -}}
{{- if not (regexMatch "^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?)?$" (.Values.image.tag | default "")) -}}
{{- fail (printf "image.tag: %q is not an image tag (at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'; a digest goes in image.digest)" .Values.image.tag) -}}
{{- end -}}

{{- /* Key Vault URLs, as the controller checks them (sealkit/vault/urls.py, sealkit/wrapping/kekid.py). */}}
{{- $host := "(([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\\.)*[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])" -}}
{{- $port := "(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?" -}}
{{- $origin := printf "https://%s%s" $host $port -}}
{{- with $c.escrow.vault -}}
{{- if not (or (regexMatch "^[-A-Za-z0-9]{3,24}$" .) (regexMatch (printf "^%s/?$" $origin) .)) -}}
{{- fail (printf "controller.escrow.vault: %q is neither a vault name (3-24 letters, digits and '-') nor an https:// URL without a path (e.g. https://kv-prod.vault.azure.net)" .) -}}
{{- end -}}
{{- end -}}
{{- with $c.kek.url -}}
{{- if not (regexMatch (printf "^%s/keys/[0-9A-Za-z-]{1,127}(/[0-9A-Za-z]{1,64})?/?$" $origin) .) -}}
{{- fail (printf "controller.kek.url: %q is not a Key Vault key URL (https://<vault or HSM host>/keys/<name>[/<version>], e.g. https://kv-prod.vault.azure.net/keys/sealing-kek)" .) -}}
{{- end -}}
{{- end -}}
{{- range $section := list "escrow" "kek" -}}
{{- range (index $c $section).acceptChallengeResources -}}
{{- if not (regexMatch (printf "^%s/?$" $origin) .) -}}
{{- fail (printf "controller.%s.acceptChallengeResources: %q is not an https:// resource without a path (e.g. https://vault.azure.net)" $section .) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* Key escrow needs both the vault and the cluster name, or neither. */}}
{{- if and $c.escrow.vault (not $c.escrow.clusterName) -}}
{{- fail "controller.escrow.clusterName: key escrow needs this cluster's name as well as controller.escrow.vault (or neither)" -}}
{{- end -}}
{{- if and $c.escrow.clusterName (not $c.escrow.vault) -}}
{{- fail "controller.escrow.vault: key escrow needs the vault as well as controller.escrow.clusterName (or neither)" -}}
{{- end -}}

{{- /* Watched namespaces: additionalNamespaces narrow nothing while every namespace is watched. */}}
{{- if and $c.allNamespaces $c.additionalNamespaces -}}
{{- fail "controller.additionalNamespaces: only used with controller.allNamespaces: false (with true, every namespace is watched under a ClusterRole)" -}}
{{- end -}}

{{- /* A live Deployment's selector cannot change (the API server refuses the upgrade half-way, after
other objects changed). Only nameOverride can change it. `lookup` is empty under `helm template`. */}}
{{- with lookup "apps/v1" "Deployment" .Release.Namespace $fullname -}}
{{- $live := dig "spec" "selector" "matchLabels" dict . -}}
{{- $want := include "sealkit.selectorLabels" $ | fromYaml -}}
{{- if not (deepEqual $live $want) -}}
{{- fail (printf "nameOverride: Deployment %s/%s selects %s, and a Deployment's selector cannot change; this chart would select %s: set nameOverride back (or uninstall first)" $.Release.Namespace $fullname (toJson $live) (toJson $want)) -}}
{{- end -}}
{{- end -}}

{{- /* A PodDisruptionBudget that no healthy replica can pass blocks every node drain for good. */}}
{{- if .Values.pdb.enabled -}}
{{- $min := .Values.pdb.minAvailable -}}
{{- $max := .Values.pdb.maxUnavailable -}}
{{- if not (kindIs "invalid" $min) -}}
{{- $replicas := int .Values.replicaCount -}}
{{- /* A percentage counts pods rounded up, as the disruption controller does. */}}
{{- $pods := ternary (div (add (mul (int (trimSuffix "%" (toString $min))) $replicas) 99) 100) (int $min) (kindIs "string" $min) -}}
{{- if ge $pods $replicas -}}
{{- fail (printf "pdb.minAvailable: %v keeps all %d replicas (replicaCount) up, which blocks every node drain: use fewer" $min $replicas) -}}
{{- end -}}
{{- else if not (kindIs "invalid" $max) -}}
{{- if or (eq (toString $max) "0") (eq (toString $max) "0%") -}}
{{- fail (printf "pdb.maxUnavailable: %v would block every node drain: use at least 1" $max) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
