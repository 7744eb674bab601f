# Les pages du personnel pour les portails, les notifications, les alertes, les utilisateurs et
# la revue des accès (français) : portals.html, portal.html, portal_link.html, notifications.html,
# alerts.html, users.html, access_review.html. Chaque clé figure aussi dans
# ../en/staff-portals.ftl, dans le même ordre.

## Communs à ces pages (staff-portals-)

staff-portals-never = jamais
staff-portals-documents = Documents
staff-portals-col-matter = Dossier
staff-portals-col-status = Statut
staff-portals-col-size = Taille
staff-portals-col-when = Date et heure
staff-portals-email = Adresse e-mail
staff-portals-role = Rôle
staff-portals-mfa = Second facteur
staff-portals-last-sign-in = Dernière connexion
# L’état du lien d’un portail (tk("staff-portals-status", …)) ; closed : son dossier est archivé ;
# unreadable : ses règles enregistrées sont illisibles, il ne reçoit donc rien
staff-portals-status-active = actif
staff-portals-status-disabled = désactivé
staff-portals-status-expired = expiré
staff-portals-status-closed = clos
staff-portals-status-deleted = supprimé
staff-portals-status-unreadable = illisible
# Ce que fait un portail d’un fichier contenant des données personnelles (tk("staff-portals-dlp", …))
staff-portals-dlp-flag = accepter et signaler
staff-portals-dlp-quarantine = retenir jusqu’à libération
staff-portals-dlp-block = refuser
# Le rôle d’un membre du personnel dans tout le cabinet, ou dans un dossier (tk("staff-portals-role", …))
staff-portals-role-admin = administrateur
staff-portals-role-attorney = avocat
staff-portals-role-paralegal = assistant juridique
# Un second facteur configuré par un membre du personnel (tk("staff-portals-mfa", …))
staff-portals-mfa-totp = application d’authentification
staff-portals-mfa-passkey = clé d’accès

## portals.html

staff-portals-title = Portails — Courier
staff-portals-heading = Portails
staff-portals-col-label = Libellé
staff-portals-col-last-upload = Dernier dépôt
staff-portals-col-expires = Expiration
# Une étiquette après le libellé d’un portail
staff-portals-passcode-tag = code d’accès
staff-portals-none = Aucun portail pour l’instant.
staff-portals-new = Nouveau portail
staff-portals-label-label = Libellé (ce que voit le client)
# « General » est le nom du dossier de tout le cabinet
staff-portals-label-matter = Dossier (vide : le dossier General)
staff-portals-label-expires-in = Expire dans (p. ex. 7d, 12h ; vide : jamais)
staff-portals-label-max-size = Taille maximale des fichiers
# $types : la liste des types de fichiers du cabinet, p. ex. « pdf, docx, xlsx »
staff-portals-label-types = Types de fichiers acceptés (vide : la liste du cabinet : { $types })
staff-portals-label-dlp = Lorsqu’un fichier contient des données personnelles
# $action : l’un des mots staff-portals-dlp-…
staff-portals-dlp-firm-default = Réglage du cabinet ({ $action })
staff-portals-dlp-option-flag = L’accepter et le signaler
staff-portals-dlp-option-quarantine = Le retenir jusqu’à ce qu’un avocat le libère
staff-portals-dlp-option-block = Le refuser et demander au client de masquer les données
staff-portals-label-notify = Lorsque le client dépose des fichiers
staff-portals-notify-on = M’envoyer un e-mail (un e-mail par lot de fichiers)
staff-portals-notify-off = Ne pas m’envoyer d’e-mail
# Suivi d’une liste de langues, chacune nommée dans sa propre langue
staff-portals-label-language = La page du client en
staff-portals-language-browser = La langue du navigateur du client
staff-portals-label-passcode = Code d’accès (facultatif, à communiquer au client séparément)
staff-portals-create = Créer le portail

## portal.html

# Suivi du nom du dossier, sous forme de lien
staff-portal-matter = Dossier :
staff-portal-created = Créé le { $created } ; expire le { $expires }
staff-portal-created-no-expiry = Créé le { $created } ; n’expire jamais
staff-portal-max-size = Taille maximale des fichiers : { $size }
staff-portal-max-size-passcode = Taille maximale des fichiers : { $size } ; code d’accès exigé
# $types : les types de fichiers acceptés, en capitales ; $action : l’un des mots staff-portals-dlp-…
staff-portal-accepts = Accepte { $types } ; données personnelles : { $action }
# $retention est la règle en toutes lettres (p. ex. 30 jours) ; $rule dit de qui elle est (portal, matter ou firm)
staff-portal-retention = { $rule ->
    [portal] Les documents sont conservés { $retention } après leur dépôt (règle propre à ce portail), ou jusqu’à la fin du délai de grâce après leur classement dans la GED ; les documents sous conservation légale sont gardés jusqu’à sa levée.
    [matter] Les documents sont conservés { $retention } après leur dépôt (règle du dossier), ou jusqu’à la fin du délai de grâce après leur classement dans la GED ; les documents sous conservation légale sont gardés jusqu’à sa levée.
   *[firm] Les documents sont conservés { $retention } après leur dépôt (règle du cabinet), ou jusqu’à la fin du délai de grâce après leur classement dans la GED ; les documents sous conservation légale sont gardés jusqu’à sa levée.
}
staff-portal-notify-on = Notifications de dépôt : activées, pour { $owner }
staff-portal-notify-off = Notifications de dépôt : désactivées, pour { $owner }
staff-portal-notify-no-owner = Notifications de dépôt : ce portail n’a pas de propriétaire
staff-portal-label-retention = Durée de conservation (p. ex. 30d ; vide : héritée)
staff-portal-set-retention = Définir la durée de conservation
staff-portal-locked = Trop de codes d’accès erronés ont été saisis pour ce lien : il refuse tout code d’accès jusqu’au { $until }.
staff-portal-unlock = Débloquer le code d’accès maintenant
staff-portal-disable = Désactiver
staff-portal-enable = Activer
staff-portal-notify-stop = Ne plus notifier les dépôts
staff-portal-notify-start = Notifier les dépôts au propriétaire
staff-portal-new-link = Nouveau lien (l’ancien cesse de fonctionner)
staff-portal-new-link-confirm = Émettre un nouveau lien ? Le lien actuel cesse immédiatement de fonctionner.
staff-portal-delete-documents = Supprimer tous les documents
staff-portal-delete-documents-confirm = Détruire tous les documents de ce portail qui ne sont pas sous conservation légale ? Cette action est irréversible.
staff-portal-delete = Supprimer le portail et ses documents
staff-portal-delete-confirm = Supprimer ce portail et détruire ses documents ? Cette action est irréversible.
staff-portal-download-zip = Tout télécharger en un seul fichier ZIP
staff-portal-reference-placeholder = Référence GED (facultative)
staff-portal-reference-all-label = Référence GED pour tous les documents
staff-portal-file-all = Marquer tout comme classé dans la GED
staff-portal-col-name = Nom
staff-portal-col-type = Type
staff-portal-col-scan = Analyse
staff-portal-col-uploaded = Déposé le
staff-portal-col-shredded = Destruction
# Ce que les analyses ont conclu d’un document (tk("staff-portal-scan", …))
staff-portal-scan-clean = sain
staff-portal-scan-flagged = signalé
staff-portal-scan-quarantined = retenu
staff-portal-scan-infected = infecté
staff-portal-scan-unscanned = non analysé
# $count occurrences d’un type de données personnelles ($kind : l’un des textes staff-portal-finding-…)
staff-portal-finding-count = { $count } × { $kind }
# Types de données personnelles trouvés (tk("staff-portal-finding", …))
staff-portal-finding-ssn = numéros de sécurité sociale américains
staff-portal-finding-payment_card = numéros de carte bancaire
staff-portal-finding-iban = numéros de compte bancaire (IBAN)
staff-portal-finding-fr_nir = numéros de sécurité sociale français (NIR)
staff-portal-finding-email = adresses e-mail
staff-portal-finding-phone = numéros de téléphone
staff-portal-finding-keyword = termes que votre cabinet nous a demandé de rechercher
staff-portal-text-unreadable = le texte n’a pas pu être lu
staff-portal-on-hold = sous conservation légale
staff-portal-shred-at = sera détruit le { $when }
staff-portal-shred-filed = classé dans la GED
staff-portal-shred-retention = fin de la conservation
staff-portal-filed = classé dans la GED le { $when }
staff-portal-filed-reference = classé dans la GED le { $when } ({ $reference })
staff-portal-release-confirm = Libérer ce document pour le téléchargement ? Le motif est conservé dans le journal d’audit.
staff-portal-release-reason = Motif de la libération
staff-portal-release = Libérer
staff-portal-download = Télécharger
staff-portal-reference-label = Référence GED pour { $name }
staff-portal-mark-filed = Marquer comme classé
staff-portal-hold-placeholder = Motif de la conservation légale
staff-portal-hold-label = Motif de la conservation légale de { $name }
staff-portal-hold = Placer sous conservation légale
staff-portal-delete-document-confirm = Détruire ce document ? Cette action est irréversible.
staff-portal-delete-document = Supprimer
staff-portal-no-documents = Aucun document.

## portal_link.html

staff-portal-link-title = Lien du portail — Courier
staff-portal-link-heading-created = Portail créé : { $label }
staff-portal-link-heading-new = Nouveau lien émis : { $label }
staff-portal-link-copy-now = Copiez ce lien maintenant.
staff-portal-link-once = Courier n’en conserve qu’une empreinte et ne pourra plus l’afficher.
staff-portal-link-previous = L’ancien lien ne fonctionne plus.
staff-portal-link-label = Lien du portail
staff-portal-link-copy = Copier
# Ce qu’affiche le bouton de copie une fois le lien copié (ui.js le lit dans data-copied)
staff-portal-link-copied = Copié
staff-portal-link-sheet-heading = Instructions pour le client
staff-portal-link-sheet-intro = Une fiche d’une page à imprimer ou à envoyer : ce lien et son code QR, comment reconnaître un lien authentique, ce que deviennent les fichiers et quand ils sont supprimés.
staff-portal-link-sheet-passcode = Le code d’accès n’y figure pas : communiquez-le au client séparément, par téléphone ou par SMS.
# Suivi d’une liste de langues, chacune nommée dans sa propre langue
staff-portal-link-sheet-language = Langue de la fiche
staff-portal-link-sheet-open = Ouvrir la fiche pour l’imprimer
staff-portal-link-sheet-download = Télécharger la fiche
staff-portal-link-go = Aller au portail

## notifications.html

staff-notifications-title = Notifications — Courier
staff-notifications-heading = Notifications
staff-notifications-intro = Les dépôts dans les portails dont vous êtes propriétaire, une ligne par lot de fichiers (comme dans les e-mails).
staff-notifications-mark-read = { $n ->
    [one] Marquer la notification comme lue
   *[other] Marquer les { $n } notifications comme lues
}
staff-notifications-col-portal = Portail
staff-notifications-col-files = Fichiers
staff-notifications-new = nouveau
staff-notifications-none = Aucun dépôt pour l’instant.

## alerts.html

staff-alerts-title = Alertes — Courier
staff-alerts-heading = Alertes et réponse aux incidents
staff-alerts-lockdown = Verrouillage d’urgence
staff-alerts-lockdown-on = activé
staff-alerts-lockdown-off = désactivé
# $by : qui l’a activé ; $reason : le motif saisi
staff-alerts-lockdown-active = Depuis le { $when }, par { $by } : { $reason }. Tous les liens des clients et des partages répondent « introuvable », les dépôts sont refusés, les jetons d’API sont refusés et seuls les administrateurs peuvent se connecter.
staff-alerts-lockdown-explained = Le verrouillage d’urgence ferme d’un coup tous les liens des clients et des partages, refuse les dépôts en cours, ferme toutes les sessions du personnel (la vôtre aussi) et refuse les jetons d’API ; seuls les administrateurs peuvent se connecter jusqu’à sa levée.
# Suivi du chemin du guide de réponse aux incidents, en code, et d’un point
staff-alerts-lockdown-see = Voir
staff-alerts-label-reason = Motif (conservé dans le journal d’audit)
staff-alerts-label-password = Votre mot de passe
staff-alerts-label-code = Le code de votre application d’authentification (ou un code de secours)
staff-alerts-lift = Lever le verrouillage d’urgence
staff-alerts-lock = Verrouiller maintenant
staff-alerts-alerts = Alertes
# $to : les adresses auxquelles les alertes sont envoyées ; smtp_url et alert_to sont des noms de réglages
staff-alerts-go-mail = Les alertes sont envoyées par e-mail à { $to }.
staff-alerts-go-mail-webhook = Les alertes sont envoyées par e-mail à { $to } et au webhook.
staff-alerts-go-nowhere = Les alertes ne sont envoyées par e-mail à personne (définissez smtp_url et alert_to).
staff-alerts-go-nowhere-webhook = Les alertes ne sont envoyées par e-mail à personne (définissez smtp_url et alert_to), mais elles sont envoyées au webhook.
staff-alerts-col-alert = Alerte
staff-alerts-col-what = Description
staff-alerts-col-from = Origine
staff-alerts-col-event = Événement d’audit
# Le type d’une alerte (tk("staff-alerts-kind", …))
staff-alerts-kind-link_probing = sondage de liens
staff-alerts-kind-bulk_download = téléchargement massif
staff-alerts-kind-account_locked = compte bloqué
staff-alerts-kind-malware = logiciel malveillant
staff-alerts-kind-off_hours_sign_in = connexion hors des heures de bureau
staff-alerts-kind-audit_broken = journal d’audit rompu
staff-alerts-kind-lockdown = verrouillage d’urgence
staff-alerts-kind-audit_log_restarted = registre d’audit redémarré

## Ce que dit une alerte (services::watch), sur la page des alertes et dans son courriel
alert-link-probing = { $count } demandes de liens inconnus ou fermés sont venues d’une même adresse en { $window }.
alert-bulk-download = { $token ->
    [none] { $who } a téléchargé { $count } documents en { $window }.
   *[other] { $who } a téléchargé { $count } documents en { $window } (le dernier par le jeton d’API { $token }).
}
alert-account-locked = Les connexions au compte { $email } sont bloquées après des échecs répétés.
alert-account-locked-unknown = Des connexions sous des identifiants qu’aucun compte ne porte ont été bloquées après des échecs répétés.
alert-malware = { $outcome ->
    [refused] Un envoi contenait un logiciel malveillant ({ $signature }) ; il a été refusé.
   *[kept] Un envoi contenait un logiciel malveillant ({ $signature }) ; il a été mis en quarantaine.
}
alert-off-hours = { $who } s’est connecté en dehors des heures de bureau ({ $when }).
alert-audit-broken = La vérification du journal d’audit a échoué à l’événement { $seq } : { $why }
alert-lockdown-on = { $by } a placé Courier en verrouillage d’urgence : { $reason }
alert-lockdown-off = { $by } a levé le verrouillage d’urgence : { $reason }
alert-audit-log-restarted = { $by } a démarré un nouveau heads.log (têtes dans l’ancien : { $heads }, événements abandonnés : { $lost }) : { $reason }
alert-audit-log-restarted-damaged = { $by } a démarré un nouveau heads.log (têtes dans l’ancien : { $heads }, lignes qui n’étaient pas des têtes signées : { $bad }, événements abandonnés : { $lost }) : { $reason }
alert-audit-log-restarted-uncounted = { $by } a démarré un nouveau heads.log ; l’ancien manquait ou ne contenait aucune tête, si bien que le nombre d’événements perdus ne peut être établi : { $reason }
staff-alerts-none = Aucune alerte.
staff-alerts-deliveries = E-mails et webhooks
staff-alerts-counts = { $failed ->
    [one] { $pending } en attente, { $failed } abandonné.
   *[other] { $pending } en attente, { $failed } abandonnés.
}
staff-alerts-col-queued = Mis en file
staff-alerts-col-channel = Canal
staff-alerts-col-about = Objet
staff-alerts-col-attempts = Tentatives
staff-alerts-col-state = État
staff-alerts-col-last-error = Dernière erreur
# Le canal d’un envoi (tk("staff-alerts-channel", …))
staff-alerts-channel-mail = e-mail
staff-alerts-channel-webhook = webhook
# L’objet d’un e-mail (tk("staff-alerts-topic", …)) ; les noms d’événements de webhook comme
# document.uploaded sont affichés tels quels
staff-alerts-topic-alert = alerte
staff-alerts-topic-upload = dépôt
# L’état d’un envoi (tk("staff-alerts-state", …) ; le « given up » du serveur arrive en given_up)
staff-alerts-state-sent = envoyé
staff-alerts-state-given_up = abandonné
staff-alerts-state-retrying = nouvel essai prévu
staff-alerts-state-waiting = en attente
staff-alerts-nothing-sent = Rien n’a encore été envoyé.

## users.html

staff-users-title = Utilisateurs — Courier
staff-users-heading = Utilisateurs
staff-users-col-sessions = Sessions
# Une étiquette après l’adresse du membre connecté
staff-users-you = vous
staff-users-role-of = Rôle de { $email }
staff-users-change = Modifier
# L’état d’un compte (tk("staff-users-status", …))
staff-users-status-active = actif
staff-users-status-invited = invité
staff-users-status-disabled = désactivé
staff-users-locked-until = bloqué jusqu’au { $when }
staff-users-invitation-until = invitation valable jusqu’au { $when }
# Après la liste des seconds facteurs configurés
staff-users-recovery-codes = { $n ->
    [one] { $n } code de secours
   *[other] { $n } codes de secours
}
staff-users-enrols-next = configuration à la prochaine connexion
staff-users-disable = Désactiver
staff-users-enable = Activer
staff-users-reset-mfa = Réinitialiser le second facteur
staff-users-reset-password = Lien de réinitialisation du mot de passe
staff-users-end-sessions = Fermer les sessions
staff-users-unlock = Débloquer
staff-users-end-all = Fermer toutes les sessions de tout le monde
staff-users-end-all-why = Après une compromission présumée : tout le monde, vous compris, doit se reconnecter.
staff-users-verify-first = Avant de réinitialiser le second facteur d’une personne ou de lui envoyer un lien de réinitialisation du mot de passe, vérifiez l’identité du demandeur comme vous le feriez avant une première configuration (en personne ou par un appel à un numéro connu).
staff-users-invite-heading = Inviter une personne
staff-users-invite-intro = La personne reçoit un lien à usage unique pour définir un mot de passe, puis configure une application d’authentification à sa première connexion.
staff-users-department = Service
staff-users-valid-for = Durée de validité
staff-users-create-invitation = Créer l’invitation

## access_review.html

staff-access-review-title = Revue des accès — Courier
staff-access-review-heading = Revue des accès
staff-access-review-as-of = État au { $when }. Les signalements indiquent ce qu’un réviseur doit examiner.
staff-access-review-people = Personnes
staff-access-review-col-matters = Dossiers
staff-access-review-col-api-tokens = Jetons d’API
staff-access-review-col-flags = Signalements
staff-access-review-disabled = désactivé
staff-access-review-archived = archivé
# Un dossier et le rôle du membre dans ce dossier, ou un membre et son rôle
staff-access-review-with-role = { $name } ({ $role })
# Un jeton d’API : son nom, ses portées (noms techniques), son état, sa date d’expiration
staff-access-review-token = { $name } ({ $scopes } ; { $status }, expire le { $when })
# L’état d’un jeton d’API (tk("staff-access-review-token-status", …))
staff-access-review-token-status-active = actif
staff-access-review-token-status-expired = expiré
staff-access-review-token-status-revoked = révoqué
# Ce qu’un réviseur doit examiner (tk("staff-access-review-flag", …)) ; certains sont suivis d’un identifiant
staff-access-review-flag-never_signed_in = jamais connecté
staff-access-review-flag-no_sign_in_for_90_days = aucune connexion depuis 90 jours
staff-access-review-flag-mfa_not_enrolled = second facteur non configuré
staff-access-review-flag-member_of_archived_matter = membre d’un dossier archivé
staff-access-review-flag-archived_with_members = archivé avec des membres
staff-access-review-flag-portal_without_expiry = portail sans expiration
staff-access-review-flag-share_without_expiry = partage sans expiration
staff-access-review-matters = Dossiers
staff-access-review-col-sensitivity = Sensibilité
staff-access-review-col-members = Membres
staff-access-review-col-portals = Portails actifs
staff-access-review-col-shares = Partages actifs
staff-access-review-col-last-review = Dernière revue
# La sensibilité d’un dossier (tk("staff-access-review-sensitivity", …))
staff-access-review-sensitivity-normal = normale
staff-access-review-sensitivity-confidential = confidentielle
staff-access-review-sensitivity-restricted = restreinte
# Un portail actif (son libellé) ou un partage actif (son destinataire), et sa date d’expiration
staff-access-review-expires = { $name } (expire le { $when })
staff-access-review-no-expiry = { $name } (n’expire jamais)
