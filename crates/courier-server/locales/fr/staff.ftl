# Ce que le serveur lui-même dit au personnel (pas le texte d'un modèle de page). Chaque clé
# est aussi dans ../en/staff.ftl ; un test échoue s'il en manque une.

## Avis affichés une fois (web::templates::Templates::notice)
staff-notice-sessions-ended = { $n ->
    [one] Vous étiez encore connecté ailleurs ; cette session est maintenant fermée.
   *[other] Vous étiez encore connecté ailleurs ; ces { $n } sessions sont maintenant fermées.
}

## Connexion (web::auth)
staff-login-wrong = L’adresse e-mail ou le mot de passe n’est pas correct.
staff-mfa-wrong = Ce code n’est pas correct, ou il a déjà servi.
staff-enrol-wrong = Ce code n’est pas correct. Scannez le nouveau code ci-dessous et réessayez.
staff-passwords-differ = Les deux mots de passe sont différents.

## Pages d’erreur côté personnel (web::errors) ; les pages des clients ont leur propre titre
staff-error-title = Cela n’a pas abouti
error-not-found = Il n’y a rien ici, ou vous n’avez pas le droit de le voir.
error-forbidden = Vous n’avez pas le droit de faire cela. Adressez-vous à un administrateur si nécessaire.
error-unauthenticated = Veuillez d’abord vous connecter.

## Le courriel au responsable d’un portail quand un client a envoyé des fichiers (services::watch::delivery)
mail-upload-files = { $files ->
    [one] 1 nouveau fichier
   *[other] { $files } nouveaux fichiers
}
mail-upload-subject = { mail-upload-files } dans « { $label } »
mail-upload-body =
    Un client a envoyé { mail-upload-files } ({ $size } au total) au portail
    « { $label } ».

    Reçus entre le { $from } et le { $to }.

    Ouvrir le portail : { $link }

    Ce message ne nomme aucun fichier et ne contient rien de ce que le client a saisi :
    connectez-vous pour voir les documents.

## Le courriel d’une alerte, quand `alert_language` n’est pas l’anglais (services::watch) ; $kind est
## le nom de l’alerte, $what sa phrase, $from qui et d’où, $event le numéro de l’événement d’audit
mail-alert-from = { $actor } depuis { $ip }
mail-alert-no-event = aucun (le journal ne prend plus d’événement tant qu’il est rompu)
mail-alert-subject = [Alerte Courier] { $kind } : { $what }
mail-alert-body =
    Courier a déclenché une alerte.

    Alerte : { $kind }
    Quoi : { $what }
    Quand : { $when }
    D’où : { $from }
    Événement d’audit : { $event }

    L’examiner : { $link }

## Les boutons autour de la fiche d’instructions du client (web::instructions), dans la langue de l’avocat
staff-sheet-nav = Fiche
staff-sheet-print = Imprimer ou enregistrer en PDF
staff-sheet-download = Télécharger sous forme de fichier
staff-sheet-back = Retour au portail
## Les liens sous une longue liste de documents (templates/pager.html)
staff-pages-label = Pages de documents
staff-pages-newest = Documents les plus récents
staff-pages-older = Documents plus anciens
## Refus que le service oppose au personnel (dans la langue du membre ; l’API et la CLI restent en anglais)
staff-refused-label = le libellé doit compter de 1 à { $max } caractères, sans caractère de contrôle
staff-refused-expiry-past = l’échéance doit être dans le futur
staff-refused-max-size = la taille maximale des fichiers doit être positive
staff-refused-passcode-short = un code d’accès doit compter au moins { $min } caractères
staff-refused-passcode-long = le code d’accès est trop long
staff-refused-matter-name = le dossier doit compter de 1 à { $max } caractères
staff-refused-no-matter = aucun dossier « { $name } » ne vous est accessible ; ouvrez-le d’abord sous Dossiers, ou demandez à y être ajouté
staff-refused-no-type = un portail doit accepter au moins un type de fichier
staff-refused-no-member = aucun membre actif du personnel n’a l’adresse { $email }
staff-refused-invitation-long = une invitation peut durer 30 jours au plus
staff-refused-user-exists = un utilisateur avec cette adresse existe déjà
staff-refused-not-accepted = cette personne n’a pas accepté son invitation ; invitez-la de nouveau
staff-refused-last-admin = c’est le dernier administrateur actif ; nommez d’abord un autre administrateur
staff-refused-password-wrong = votre mot de passe n’est pas le bon
staff-refused-email = cette adresse électronique n’est pas valide
staff-refused-password-short = le mot de passe doit compter au moins { $min } caractères
staff-refused-password-long = le mot de passe peut compter { $max } caractères au plus
staff-refused-password-email = le mot de passe ne doit pas contenir le nom de votre adresse électronique
staff-refused-unknown-matter = il n’y a pas de dossier « { $name } »
staff-refused-matter-exists = un dossier porte déjà ce nom
staff-refused-no-account = aucun compte du personnel n’a l’adresse { $email }
staff-refused-own-membership = vous ne pouvez pas modifier votre propre place dans un dossier ; utilisez l’accès d’urgence (avec un motif) ou demandez à un autre administrateur
staff-refused-restricted-members = seuls les avocats d’un dossier restreint décident qui y a accès ; utilisez l’accès d’urgence (avec un motif) pour le consulter, ou demandez à l’un de ses avocats ou à l’exploitant
staff-refused-archive-general = le dossier General ne peut pas être archivé
staff-refused-break-glass-long = l’accès d’urgence dure 24 heures au plus
staff-refused-recipient = le destinataire doit compter de 1 à { $max } caractères, sans caractère de contrôle
staff-refused-download-limit = la limite de téléchargements doit être d’au moins 1
staff-refused-share-size = un partage contient de 1 à { $max } documents
staff-refused-share-passcode = un code d’accès doit compter de { $min } à 1024 caractères
staff-refused-share-revoked = ce partage est déjà révoqué
staff-refused-under-hold = ce document est sous conservation légale ({ $reason }) ; levez d’abord la conservation
staff-refused-hold-shredded = ce document est déjà détruit ; il n’y a rien à conserver
staff-refused-hold-released = cette conservation est déjà levée
staff-refused-no-document = indiquez au moins un document
staff-refused-token-scope = un jeton a besoin d’au moins une portée
staff-refused-token-long = un jeton peut durer un an au plus
staff-refused-token-revoked = ce jeton est déjà révoqué
staff-refused-passkey-restart = recommencez l’enregistrement
staff-refused-passkey-exists = cette clé d’accès est déjà enregistrée
staff-refused-no-passkey = aucune clé d’accès n’est enregistrée pour ce compte
staff-refused-not-size = « { $input } » n’est pas une taille (par exemple 500KB, 100MiB, 2GiB)
staff-refused-not-duration = « { $input } » n’est pas une durée (par exemple 30m, 12h, 7d)
staff-refused-not-time = « { $input } » n’est pas une date et une heure
staff-refused-unknown-type = « { $name } » n’est pas un type de fichier que Courier connaît (il connaît : { $known })
staff-refused-download-limit-number = la limite de téléchargements doit être un nombre
staff-refused-text-field = { $field } doit compter de { $min } à { $max } caractères, sans caractère de contrôle ni de mise en forme invisible
staff-field-reason = le motif
staff-field-department = le service
staff-field-token-name = le nom du jeton
staff-field-matter-name = le nom du dossier
staff-field-passkey-name = le nom de la clé d’accès
staff-field-dms-reference = la référence GED
staff-refused-setting-line = { $setting } doit tenir sur une ligne de { $max } caractères au plus
staff-refused-timezone = « { $value } » n’est pas un nom de fuseau horaire (par exemple Europe/Paris)
staff-refused-colour = « { $value } » n’est pas une couleur comme #1f4fa3
staff-refused-archive-empty = ce portail n’a aucun document à télécharger
staff-refused-sheet-link = ce n’est pas le lien actuel de ce portail ; la fiche d’instructions s’imprime depuis la page qui affiche un nouveau lien
staff-refused-sheet-closed = le lien de ce portail ne fonctionne pas en ce moment (désactivé, expiré, dossier archivé ou installation verrouillée) ; activez-le ou émettez un nouveau lien avant d’imprimer la fiche
staff-refused-review-text = le texte « { $field } » doit compter au plus { $max } caractères
staff-field-review-removed = retirés
staff-field-review-note = note
staff-refused-logo-size = le logo dépasse { $max }, la taille maximale acceptée
staff-refused-logo-type = le logo n’est ni un fichier PNG ni un fichier SVG
staff-refused-colour-light = { $value } est trop clair : un texte blanc dessus a un contraste de { $contrast } :1, et les clients ont besoin d’au moins 4,5 :1 pour le lire ; choisissez une teinte plus foncée
staff-refused-lockdown-on = le verrouillage est déjà actif
staff-refused-lockdown-off = le verrouillage est déjà levé
staff-refused-code-wrong = le code est faux (ou déjà utilisé)
staff-refused-release-reason = indiquez un motif de 1 à { $max } caractères pour libérer le document
staff-refused-not-held = ce document n’est pas retenu
staff-refused-share-no-document = il n’y a pas de document { $id } dans ce dossier
staff-refused-share-held = { $name } est retenu et ne peut pas être partagé
staff-refused-share-findings = { $name } contient des données personnelles ({ $findings }) ; confirmez qu’il peut être partagé
staff-refused-share-watermark-size = { $name } est trop volumineux pour être filigrané ({ $max } au plus)
staff-refused-account-locked = Trop de connexions échouées : ce compte est bloqué jusqu’au { $until }. Un administrateur peut le débloquer plus tôt.
staff-refused-upload-locked-down = Courier est en verrouillage d’urgence : aucun envoi n’est accepté jusqu’à sa levée.
staff-refused-held = ce document est retenu ({ $status }) et ne peut être téléchargé qu’après sa libération par un avocat
staff-refused-not-shredded = ce document n’est pas détruit ; un certificat n’existe qu’une fois qu’il l’est
staff-refused-certificate-predates = ce document a été détruit avant que Courier ne délivre des certificats (son événement ne donne pas de motif)
staff-refused-passkeys-off = les clés d’accès demandent une public_url avec un nom d’hôte (pas une adresse IP) ; adressez-vous à l’administrateur informatique
staff-refused-passkey = la clé d’accès n’a pas été acceptée ; réessayez, ou utilisez une autre clé
staff-refused-password-weak = ce mot de passe est trop facile à deviner. Quelques mots sans rapport entre eux en font un mot de passe solide.
staff-refused-unknown-scope = « { $input } » n’est pas une portée de jeton (les portées sont : { $known })
staff-refused-unknown-word = « { $input } » ne fait pas partie des choix ({ $known })
staff-refused-page-limit = le nombre de lignes par page doit aller de 1 à { $max }
staff-refused-page-cursor = ce n’est pas une page de cette liste ; revenez à sa première page
staff-refused-field-twice = le formulaire donne « { $name } » deux fois
staff-refused-exists = cela existe déjà
