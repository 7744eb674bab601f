# Les pages du personnel pour les dossiers, les partages, les conservations légales et les
# certificats de destruction (français) : matters.html, matter.html, share.html, share_link.html,
# holds.html, certificate.html. Chaque clé figure aussi dans ../en/staff-matters.ftl ; un test
# échoue s’il en manque une.

## Communs à ces pages

staff-matters-never = jamais
staff-matters-archived = archivé
staff-matters-firm-wide = tout le cabinet
staff-matters-col-name = Nom
staff-matters-col-size = Taille
staff-matters-col-uploaded = Déposé le
staff-matters-col-downloads = Téléchargements
# Le retour « Copié » d’un bouton de copie (ui.js le lit dans data-copied)
staff-matters-copied = Copié
# La sensibilité d’un dossier (tk("staff-matters-sensitivity", …))
staff-matters-sensitivity-normal = normale
staff-matters-sensitivity-confidential = confidentielle
staff-matters-sensitivity-restricted = restreinte
# L’état du lien d’un partage (tk("staff-matters-share-status", …)) ; closed : son dossier est archivé
staff-matters-share-status-active = actif
staff-matters-share-status-revoked = révoqué
staff-matters-share-status-expired = expiré
staff-matters-share-status-closed = clos
# Pourquoi un document a été détruit (tk("staff-matters-deletion-reason", …))
staff-matters-deletion-reason-staff = suppression par le personnel
staff-matters-deletion-reason-retention = fin de la conservation
staff-matters-deletion-reason-filed = classé dans la GED
staff-matters-deletion-reason-portal_deleted = portail supprimé
staff-matters-deletion-reason-restored_journal = rejoué après une restauration

## matters.html

staff-matters-title = Dossiers — Courier
staff-matters-heading = Dossiers
staff-matters-col-department = Service
staff-matters-col-sensitivity = Sensibilité
staff-matters-col-members = Membres
staff-matters-col-last-review = Dernière revue
staff-matters-none = Vous n’êtes membre d’aucun dossier.
staff-matters-new = Nouveau dossier
staff-matters-label-name = Nom
staff-matters-label-department = Service (facultatif)
staff-matters-label-sensitivity = Sensibilité
staff-matters-open = Ouvrir le dossier

## matter.html

staff-matter-department = Service : { $department }
staff-matter-department-none = Service : aucun
staff-matter-opened = Ouvert le { $opened } ; dernière revue des accès le { $reviewed }
staff-matter-opened-never-reviewed = Ouvert le { $opened } ; aucune revue des accès à ce jour
# $retention est la règle en toutes lettres (p. ex. 90 jours) ; $rule dit de qui elle est (matter ou firm)
staff-matter-retention = { $rule ->
    [matter] Les documents sont conservés { $retention } après leur dépôt (règle propre à ce dossier), sauf si leur portail en dispose autrement.
   *[firm] Les documents sont conservés { $retention } après leur dépôt (règle du cabinet), sauf si leur portail en dispose autrement.
}
staff-matter-held = Une conservation légale maintient tous les documents de ce dossier.
staff-matter-documents = Documents
staff-matter-col-scan = Analyse
staff-matter-col-shredding = Destruction
staff-matter-col-through-share = Via un partage
staff-matter-share-doc = Partager { $name }
# Ce que les analyses ont conclu d’un document (tk("staff-matter-scan", …))
staff-matter-scan-clean = sain
staff-matter-scan-flagged = signalé
staff-matter-scan-quarantined = retenu
staff-matter-scan-infected = infecté
staff-matter-scan-unscanned = non analysé
# Types de données personnelles trouvés, après un nombre et « × » (tk("staff-matter-finding", …))
staff-matter-finding-ssn = numéros de sécurité sociale américains
staff-matter-finding-payment_card = numéros de carte bancaire
staff-matter-finding-iban = numéros de compte bancaire (IBAN)
staff-matter-finding-fr_nir = numéros de sécurité sociale français (NIR)
staff-matter-finding-email = adresses e-mail
staff-matter-finding-phone = numéros de téléphone
staff-matter-finding-keyword = termes que votre cabinet nous a demandé de rechercher
staff-matter-on-hold = sous conservation légale
staff-matter-shred-at = sera détruit le { $when }
staff-matter-shred-filed = classé dans la GED
staff-matter-shred-retention = fin de la conservation
staff-matter-filed = classé dans la GED le { $when }
staff-matter-filed-reference = classé dans la GED le { $when } ({ $reference })
staff-matter-watermarked = avec filigrane
staff-matter-unchanged = servi tel quel
staff-matter-download = Télécharger
staff-matter-no-documents = Aucun document.
staff-matter-share-legend = Partager les documents cochés
staff-matter-share-watermark = À chaque téléchargement, les fichiers PDF, PNG et JPEG reçoivent en filigrane le nom du destinataire, l’heure et le partage. Les autres types de fichiers sont servis tels quels.
staff-matter-label-recipient = Destinataire (nom affiché dans le filigrane)
staff-matter-label-expires-in = Expire dans (p. ex. 7d ; vide : jamais)
staff-matter-label-max-downloads = Téléchargements par fichier (vide : sans limite)
staff-matter-label-passcode = Code d’accès (facultatif)
staff-matter-allow-findings = Certains documents contiennent des données personnelles, et leur partage est voulu
staff-matter-create-share = Créer le partage
staff-matter-holds-heading = Durée de conservation et conservations légales
staff-matter-hold-since = Sous conservation légale depuis le { $when }, placée par { $by } : { $reason }
staff-matter-release-placeholder = Motif de la levée
staff-matter-release-label = Motif de la levée de la conservation légale
staff-matter-release = Lever la conservation légale
staff-matter-hold-placeholder = Motif (p. ex. litige, demande d’un régulateur)
staff-matter-hold-label = Motif de la conservation légale du dossier
staff-matter-place-hold = Placer tout le dossier sous conservation légale
staff-matter-label-retention = Durée de conservation (p. ex. 90d ; vide : celle du cabinet)
staff-matter-set-retention = Définir la durée de conservation
staff-matter-shredded-heading = Documents détruits
staff-matter-col-shredded = Détruit le
staff-matter-col-why = Motif
staff-matter-certificate = Certificat de destruction
staff-matter-upload-heading = Déposer dans ce dossier
staff-matter-choose = Choisissez des fichiers ou déposez-les ici
staff-matter-upload = Déposer
staff-matter-shares = Partages
staff-matter-col-recipient = Destinataire
staff-matter-col-status = Statut
staff-matter-col-files = Fichiers
staff-matter-col-expires = Expiration
staff-matter-no-shares = Aucun partage.
staff-matter-portals = Portails
# L’état du lien d’un portail (tk("staff-matter-portal-status", …)) ; closed : son dossier est archivé
staff-matter-portal-status-active = actif
staff-matter-portal-status-disabled = désactivé
staff-matter-portal-status-expired = expiré
staff-matter-portal-status-closed = clos
staff-matter-portal-status-deleted = supprimé
staff-matter-portal-status-unreadable = illisible
staff-matter-no-portals = Aucun portail.
staff-matter-members = Membres
staff-matter-col-email = Adresse e-mail
staff-matter-col-role = Rôle dans ce dossier
staff-matter-col-since = Depuis le
# Le rôle d’un membre dans le dossier (tk("staff-matter-role", …) et la liste des rôles)
staff-matter-role-attorney = avocat
staff-matter-role-paralegal = assistant juridique
staff-matter-remove-confirm = Retirer { $email } de ce dossier ?
staff-matter-remove = Retirer
staff-matter-everyone = Tout le personnel travaille dans ce dossier.
staff-matter-no-members = Aucun membre.
staff-matter-label-email = Adresse e-mail du membre du personnel
staff-matter-label-role = Rôle
staff-matter-add-member = Ajouter ou modifier un membre
staff-matter-review-heading = Enregistrer une revue des accès
staff-matter-label-removed = Ce qui a été retiré (membres, partages, portails ; vide : rien)
staff-matter-label-note = Note
staff-matter-record-review = Enregistrer la revue
staff-matter-reopen = Rouvrir le dossier
staff-matter-archive = Archiver le dossier
staff-matter-break-glass-confirm = Ouvrir un accès d’urgence ? Cet accès est journalisé et signalé.
staff-matter-break-glass-placeholder = Motif de l’accès d’urgence
staff-matter-break-glass-reason = Motif
staff-matter-break-glass-hours = Heures
staff-matter-break-glass = Accès d’urgence

## share.html

staff-share-title = Partage pour { $recipient } — Courier
staff-share-heading = Partage pour { $recipient }
staff-share-back = Retour au dossier
staff-share-created = Créé le { $when } par { $by } ; expire le { $expires }
staff-share-created-no-expiry = Créé le { $when } par { $by } ; n’expire jamais
staff-share-limit = { $n ->
    [one] Au plus { $n } téléchargement par fichier
   *[other] Au plus { $n } téléchargements par fichier
}
staff-share-limit-passcode = { $n ->
    [one] Au plus { $n } téléchargement par fichier ; code d’accès exigé
   *[other] Au plus { $n } téléchargements par fichier ; code d’accès exigé
}
staff-share-no-limit = Pas de limite de téléchargements
staff-share-no-limit-passcode = Pas de limite de téléchargements ; code d’accès exigé
staff-share-files = Fichiers
staff-share-col-watermark = Filigrane
staff-share-watermark-yes = oui
staff-share-watermark-no = non (servi tel quel)
staff-share-downloads = Téléchargements
staff-share-col-time = Date et heure
staff-share-col-file = Fichier
staff-share-col-ip = Adresse IP
staff-share-col-browser = Navigateur
staff-share-address-deleted = (adresse supprimée)
staff-share-not-downloaded = Pas encore téléchargé.
staff-share-locked = Trop de codes d’accès erronés ont été saisis pour ce lien : il refuse tout code d’accès jusqu’au { $until }.
staff-share-unlock = Débloquer le code d’accès maintenant
staff-share-revoke-confirm = Révoquer ce partage ? Le lien cesse immédiatement de fonctionner.
staff-share-revoke = Révoquer le partage

## share_link.html

staff-share-link-title = Lien de partage — Courier
staff-share-link-heading = Partage créé pour { $recipient }
staff-share-link-copy-now = Copiez ce lien maintenant.
staff-share-link-once = Courier n’en conserve qu’une empreinte et ne pourra plus l’afficher.
staff-share-link-label = Lien de partage
staff-share-link-copy = Copier
staff-share-link-watermarked = filigrane apposé au téléchargement
staff-share-link-unchanged = servi tel quel (pas de filigrane pour ce type de fichier)
staff-share-link-go = Aller au partage

## holds.html

staff-holds-title = Conservations légales — Courier
staff-holds-heading = Conservations légales
staff-holds-intro = Un document sous conservation légale (la sienne ou celle de son dossier) n’est jamais détruit : ni à la fin de sa conservation, ni après son classement, ni par une suppression. Les conservations légales ne sont jamais effacées ; une conservation levée reste dans la liste, avec l’auteur et le motif de la levée.
staff-holds-col-on = Objet
staff-holds-col-reason = Motif
staff-holds-col-placed = Placée
staff-holds-col-state = État
staff-holds-matter = dossier
staff-holds-document = document
staff-holds-placed = le { $when } par { $by }
staff-holds-active = active
staff-holds-released = levée le { $when } par { $by } : { $reason }
staff-holds-release-placeholder = Motif de la levée
staff-holds-release-label = Motif de la levée de cette conservation légale
staff-holds-release = Lever
staff-holds-none = Aucune conservation légale.

## certificate.html

staff-certificate-title = Certificat de destruction — Courier
staff-certificate-heading = Certificat de destruction
staff-certificate-intro = Le document ci-dessous a été détruit par effacement cryptographique : sa clé a été détruite, si bien que son contenu chiffré ne peut plus être lu par personne, ni depuis cette installation ni depuis une restauration ultérieure.
staff-certificate-document = Document
staff-certificate-size = Taille
staff-certificate-size-value = { $bytes ->
    [one] { $size } ({ $bytes } octet)
   *[other] { $size } ({ $bytes } octets)
}
staff-certificate-uploaded = Déposé le
staff-certificate-shredded = Détruit le
staff-certificate-shredded-value = { $at } (motif : { $reason })
staff-certificate-event = Événement d’audit
# Suivi de l’empreinte de l’événement
staff-certificate-event-value = n° { $seq }, empreinte
staff-certificate-head = Tête signée du journal d’audit
staff-certificate-head-value = n° { $seq }, le { $at }
staff-certificate-issued = Délivré le
staff-certificate-public-key = Clé publique du journal d’audit
# Suivi de la commande qui vérifie le certificat
staff-certificate-check = Vérifiez-le hors ligne :
staff-certificate-download = Télécharger le certificat signé (JSON)
