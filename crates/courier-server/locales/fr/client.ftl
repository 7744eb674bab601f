# Les pages que voit un client ou le destinataire d'un partage (français). Chaque clé figure
# aussi dans ../en/client.ftl ; un test échoue s'il en manque une.

language-switch-label = Langue
firm-line = { $firm }

## La page de dépôt (client_portal.html)
portal-title = Envoyer des documents à { $firm }
portal-intro = Cette page vous permet d'envoyer des documents à { $firm } en toute sécurité. Les fichiers sont chiffrés dès leur arrivée ; seul le cabinet peut les ouvrir. Une fois que le cabinet les a versés dans ses propres dossiers, ils sont supprimés de ce portail. Vous ne voyez pas les dépôts des autres personnes, et elles ne voient pas les vôtres.
portal-limits = Jusqu'à { $max_files } fichiers à la fois, chacun de { $max_size } au plus.
portal-accepted = Acceptés : { $accepted }. Les programmes, les scripts et les fichiers Office contenant des macros sont refusés.
portal-kept = Les fichiers envoyés sont conservés ici { $kept_for } au plus, puis supprimés définitivement ; le cabinet les supprime souvent plus tôt, dès qu'ils sont dans ses propres dossiers.
link-works-until = Ce lien est valable jusqu'au { $when }.
portal-choose = Choisissez des fichiers ou déposez-les ici
portal-send = Envoyer en toute sécurité
portal-contact = Des questions ? { $contact }

## Les formulaires de code d'accès (client_passcode.html, client_share_passcode.html)
passcode-title = Code d'accès — { $firm }
passcode-portal-intro = Ce portail est protégé par un code d'accès. { $firm } vous l'a communiqué séparément du lien.
passcode-share-intro = Ces documents sont protégés par un code d'accès. { $firm } vous l'a communiqué séparément du lien.
passcode-label = Code d'accès
passcode-continue = Continuer
passcode-wrong = Ce code d'accès n'est pas le bon. Vérifiez-le et réessayez.

## Le reçu (client_receipt.html et le script de la page)
receipt-title = Reçu — { $firm }
receipt-heading = Bien reçu, merci
receipt-intro = { $firm } a reçu ces fichiers pour « { $label } ». Conservez ce reçu : l'empreinte SHA-256 prouve exactement quel fichier est arrivé.
receipt-keep = Conservez ce reçu : l'empreinte SHA-256 prouve exactement quel fichier est arrivé.
receipt-file = Fichier
receipt-size = Taille
receipt-fingerprint = SHA-256
receipt-line = Reçu { $id } · { $when }
receipt-print = Imprimer ou enregistrer ce reçu
receipt-more = Envoyer d'autres fichiers

## États de chaque fichier sur la page de dépôt (upload.js) ; le script remplace {total}, {received}, {refused}
file-waiting = en attente
file-too-large = trop volumineux : ce fichier dépasse la taille autorisée
file-sending = envoi en cours
file-checking = vérification
file-accepted = reçu
file-refused = refusé
file-failed = non envoyé
file-connection-lost = connexion perdue ; non envoyé
file-cancelled = annulé
file-time-left = { $percent } %, encore { $left } environ
file-resuming = connexion perdue ; reprise…
file-cancel = Annuler
file-progress = Progression de { $name }
summary-all = Tous les fichiers ont été reçus : { "{total}" }.
summary-some = Fichiers reçus : { "{received}" } sur { "{total}" } ; non reçus : { "{refused}" }. La raison est indiquée à côté de chaque fichier.
summary-none = Aucun fichier n'a été reçu. La raison est indiquée à côté de chaque fichier.

## La page de partage (client_share.html)
share-title = Documents de { $firm }
share-heading = Documents pour { $recipient }
share-intro = { $firm } partage ces documents avec vous. Chaque téléchargement est enregistré, et les fichiers PDF et images portent votre nom et l'heure du téléchargement.
share-downloads = { $max ->
    [one] Chaque fichier peut être téléchargé une fois.
   *[other] Chaque fichier peut être téléchargé { $max } fois.
}
share-file = Fichier
share-size = Taille
share-download = Télécharger
share-downloaded = téléchargé
share-none = Aucun fichier n'est disponible.

## Durées (combien de temps les fichiers sont conservés) : { $n } est le nombre, { $unit } l'unité
duration = { $unit ->
    [week] { $n ->
        [one] 1 semaine
       *[other] { $n } semaines
    }
    [day] { $n ->
        [one] 1 jour
       *[other] { $n } jours
    }
    [hour] { $n ->
        [one] 1 heure
       *[other] { $n } heures
    }
    [minute] { $n ->
        [one] 1 minute
       *[other] { $n } minutes
    }
   *[second] { $n ->
        [one] 1 seconde
       *[other] { $n } secondes
    }
}

## La fiche d'instructions que l'avocat imprime pour le client (instructions.html)
sheet-title = Comment envoyer vos documents à { $firm }
sheet-heading = Comment envoyer vos documents à { $firm }
sheet-for = Pour : { $label }
sheet-open-heading = 1. Ouvrez votre lien personnel
sheet-open = Saisissez cette adresse dans votre navigateur, ou scannez le code avec l'appareil photo de votre téléphone. La page affiche le nom { $firm } ; vous y choisissez vos fichiers et les envoyez. Aucun compte ni aucun programme n'est nécessaire.
sheet-qr-label = Code QR du lien ci-dessus
sheet-passcode-heading = 2. Le code d'accès
sheet-passcode = La page demande un code d'accès. { $firm } vous le communique séparément, par un autre moyen (par exemple par téléphone ou par SMS). Il n'est jamais écrit sur cette fiche ni envoyé avec le lien : ne conservez pas les deux ensemble.
sheet-no-passcode = Ce lien ne demande pas de code d'accès. Gardez-le pour vous : toute personne qui le possède peut envoyer des fichiers au cabinet.
sheet-genuine-heading = 3. Comment reconnaître un lien authentique
sheet-genuine-start = Un lien authentique commence exactement par { $prefix } (vérifiez la barre d'adresse avant de choisir vos fichiers).
sheet-genuine-name = La page affiche le nom { $firm } et ne vous demande jamais de vous connecter, d'installer quoi que ce soit ni de payer.
sheet-genuine-never = { $firm } ne vous demandera jamais votre code d'accès par e-mail. Si un message ou une page vous semble suspect, n'envoyez rien et appelez le cabinet à un numéro que vous connaissez déjà.
sheet-files-heading = 4. Ce que deviennent vos fichiers
sheet-files-encrypted = Les fichiers sont chiffrés dès leur arrivée ; seul { $firm } peut les ouvrir, et personne d'autre utilisant un lien ne les voit.
sheet-receipt = Après l'envoi, vous recevez un reçu avec une empreinte (SHA-256) de chaque fichier : imprimez-le ou enregistrez-le.
sheet-printed = Fiche imprimée le { $when }

## Pourquoi un fichier ou une demande a été refusé (pages client)
refusal-title = Le fichier n'a pas été reçu
request-id = Référence de la demande
refusal-executable = Ce fichier est un programme ou un script ; les programmes et les scripts ne peuvent pas être envoyés.
refusal-macros = Ce fichier Office contient des macros ; enregistrez-le sans macros (par exemple en .docx ou .xlsx) ou en PDF.
refusal-disguised = Le nom de ce fichier se termine par .{ $ext } mais son contenu est d'un autre type ; vérifiez que vous avez choisi le bon fichier.
refusal-not-allowed = Les fichiers de ce type ne peuvent pas être envoyés ici. Types acceptés : { $accepted }.
refusal-old-office = Un ancien fichier Office (.doc, .xls, .ppt) ne peut pas être envoyé ici ; enregistrez-le au format actuel (.docx, .xlsx, .pptx) ou en PDF.
refusal-archive = Cette archive ou ce fichier Office ne peut pas être vérifié (trop volumineux une fois décompressé, trop de fichiers, trop d'archives imbriquées, ou endommagé) ; il a donc été refusé.
refusal-malware = Ce fichier a été refusé : l'antivirus y a trouvé { $signature }. Faites vérifier le fichier par votre support informatique avant de le renvoyer.
refusal-personal-data = Ce fichier a été refusé car il semble contenir des { $kinds }. Retirez-les ou masquez-les, puis renvoyez le fichier.
refusal-too-large = Le fichier dépasse la taille acceptée par ce lien ({ $max } au plus).
refusal-too-many-files = Vous pouvez envoyer au plus { $max } fichiers à la fois.
refusal-share-exhausted = Ce fichier a été téléchargé autant de fois que le partage le permet ; demandez un nouveau partage au cabinet.
refusal-interrupted = L’envoi a été interrompu ; veuillez envoyer le fichier de nouveau.
refusal-empty = Ce fichier est vide ; vérifiez que vous avez choisi le bon fichier.
refusal-no-name = Le fichier n’a pas de nom ; veuillez le choisir de nouveau.
refusal-no-file = Aucun fichier n’a été envoyé ; choisissez au moins un fichier.
refusal-scan-unavailable = Les fichiers ne peuvent pas être analysés pour le moment ; réessayez dans quelques minutes.
refusal-busy = Le service est occupé ; réessayez dans un instant.
refusal-checks-busy = Trop de fichiers sont en cours de vérification ; réessayez dans un instant.
refusal-link-busy = Ce lien a déjà { $max } envois inachevés ; terminez-en ou annulez-en un, ou attendez qu'ils expirent.
refusal-more-than-announced = Plus d'octets sont arrivés que la taille annoncée du fichier.
refusal-check-later = Le fichier n'a pas encore pu être vérifié ; un nouvel essai aura lieu sous peu.
refusal-still-checking = Le fichier est encore en cours de vérification ; redemandez dans un instant.
refusal-too-slow = Le fichier arrivait trop lentement et l'envoi a été arrêté ; réessayez.
refusal-rate-limited = Trop de demandes. Patientez une minute, puis réessayez.
refusal-checksum = Les octets envoyés ne correspondent pas à leur somme de contrôle ; renvoyez-les.
refusal-unavailable = Le service est momentanément indisponible. Réessayez dans un instant.
refusal-internal = Une erreur s'est produite de notre côté. Veuillez réessayer.
refusal-link-locked = Trop de codes d’accès erronés : ce lien est bloqué jusqu’au { $until }. La personne qui vous l’a envoyé peut le débloquer plus tôt.
refusal-stamp-too-large = Ce fichier est trop volumineux pour être filigrané ; il ne peut donc pas être téléchargé ici. Veuillez contacter le cabinet.
refusal-stamp-failed = { $name } n’a pas pu être filigrané ; il n’est donc pas servi. Veuillez contacter le cabinet.
refusal-not-multipart = Les fichiers doivent être envoyés avec le formulaire de cette page.
refusal-too-many-parts = Cet envoi contient trop de fichiers à la fois ; envoyez-les en plusieurs fois.
refusal-field-too-long = Le champ « { $name } » dépasse { $max }.
refusal-field-not-text = Un champ du formulaire n’est pas un texte lisible.
refusal-malformed = L’envoi n’a pas pu être lu ; veuillez l’envoyer de nouveau.
refusal-unlock-first = Saisissez d’abord le code d’accès : il vous a été transmis séparément du lien.
refusal-form-malformed = Le formulaire n’a pas pu être lu ; veuillez le remplir et l’envoyer de nouveau.
finding-ssn = numéros de sécurité sociale américains
finding-payment-card = numéros de carte bancaire
finding-iban = numéros de compte bancaire (IBAN)
finding-fr-nir = numéros de sécurité sociale (NIR)
finding-email = adresses e-mail
finding-phone = numéros de téléphone
finding-keyword = termes que le cabinet a demandé de rechercher
finding-personal-data = données personnelles
