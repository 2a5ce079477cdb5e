//! Word lists the rules recognise facts by. Closed classes (languages, relations,
//! pets, chronic conditions, hobbies, occupations) generalise across people far
//! better than sentence templates do: a new user's job or sport is usually in the list
//! even when their wording is not.

use std::collections::HashSet;
use std::sync::LazyLock;

/// A set from a comma-separated list (kept as one string so the lists stay compact).
fn words(list: &'static str) -> HashSet<&'static str> {
    list.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Head nouns of occupations: "a data *analyst*", "a sports *physio*".
pub static ROLES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         accountant, actor, actress, actuary, administrator, admin, advisor, adviser, agent, \
         agronomist, analyst, anesthesiologist, anaesthetist, animator, apprentice, \
         architect, archivist, artist, assistant, associate, astronomer, attorney, auditor, \
         author, baker, banker, barber, barista, barrister, bartender, beekeeper, biologist, \
         bookkeeper, brewer, builder, butcher, buyer, captain, caregiver, carer, carpenter, \
         cashier, ceo, cfo, chef, chemist, chiropractor, cleaner, clerk, clinician, coach, \
         composer, consultant, contractor, controller, cook, coordinator, copywriter, \
         counselor, counsellor, courier, curator, cto, dancer, dentist, dermatologist, \
         designer, dev, developer, dietitian, dietician, director, dispatcher, doctor, doula, \
         driver, ecologist, economist, editor, educator, electrician, emt, engineer, \
         entrepreneur, epidemiologist, executive, farmer, firefighter, fisherman, florist, \
         founder, co-founder, cofounder, freelancer, gardener, geologist, geographer, gp, \
         graduate, hairdresser, handyman, historian, homemaker, housewife, hygienist, \
         illustrator, instructor, intern, interpreter, investor, janitor, jeweler, jeweller, \
         journalist, judge, landlord, landscaper, lawyer, lecturer, librarian, lifeguard, \
         linguist, locksmith, machinist, manager, marketer, mathematician, mechanic, midwife, \
         miner, musician, nanny, neurologist, neuroscientist, nurse, nutritionist, officer, \
         oncologist, operator, optician, optometrist, owner, painter, paralegal, paramedic, \
         pastor, pathologist, pediatrician, paediatrician, pharmacist, photographer, \
         physician, physicist, physio, physiotherapist, pilot, planner, plumber, podcaster, \
         policeman, policewoman, politician, postdoc, potter, practitioner, priest, \
         principal, producer, professor, programmer, psychiatrist, psychologist, \
         psychotherapist, publisher, rabbi, radiographer, radiologist, realtor, receptionist, \
         recruiter, registrar, reporter, researcher, resident, retiree, roofer, sailor, \
         salesman, saleswoman, salesperson, scientist, secretary, server, shopkeeper, singer, \
         sociologist, soldier, solicitor, sonographer, specialist, statistician, strategist, \
         student, supervisor, surgeon, surveyor, sysadmin, tailor, tech, technician, teacher, \
         tester, therapist, trader, trainee, trainer, translator, tutor, veterinarian, vet, \
         waiter, waitress, welder, writer, youtuber, undergrad, undergraduate, phd, sophomore, freshman, fresher, pupil, fellow, \
         lead, technologist, scrum, sre, devops, hvac, inspector, estimator, underwriter, \
         vicar, imam, teller, steward, stewardess, chaplain, dj, artisan, maker, craftsman, \
         craftswoman, glazier, stonemason, mason, joiner, upholsterer, cartographer, \
         pensioner, retired ",
    )
});

/// Occupation nouns that also end compounds ("school*teacher*", "case*worker*").
const COMPOUND_HEADS: &[&str] = &[
    "teacher", "worker", "keeper", "maker", "manager", "engineer", "writer", "designer", "builder",
    "driver", "officer", "fighter", "smith", "wright", "monger", "tender",
];

/// Suffixes that mark an occupation noun not in [`ROLES`] ("cardiologist", "technician").
pub const ROLE_SUFFIXES: &[&str] = &["ologist", "ician", "ographer", "iatrist", "ist"];

/// Nouns ending like occupations that are not ("a huge *fan*", "a *beginner*").
pub static NOT_ROLES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         fan, person, lover, goalkeeper, wicketkeeper, goalie, timekeeper, scorekeeper, troublemaker, peacemaker, matchmaker, beginner, newbie, member, user, customer, list, twist, wrist, \
         fist, gist, mist, tourist, cyclist, pianist, guitarist, violinist, bassist, drummer, \
         runner, swimmer, climber, hiker, gamer, reader, perfectionist, optimist, pessimist, \
         realist, introvert, extrovert, minimalist, vegan, vegetarian, checklist, playlist, \
         wishlist, shortlist, whist, feminist, atheist, buddhist, baptist, methodist, \
         catholic, linguist-ish, insist, exist, resist, assist, persist, consist, waitlist, \
         blacklist, whitelist, artist-ish, speaker, learner, student-ish ",
    )
});

/// Whether `word` (lowercase) heads an occupation.
pub fn is_role(word: &str) -> bool {
    if NOT_ROLES.contains(word) {
        return false;
    }
    ROLES.contains(word)
        || (word.len() > 6 && ROLE_SUFFIXES.iter().any(|s| word.ends_with(s)))
        // "schoolteacher", "caseworker", "housekeeper", "shopkeeper"
        || COMPOUND_HEADS.iter().any(|h| word.len() > h.len() + 2 && word.ends_with(h))
}

/// Words for people in the user's life, with how MEMORY labels them.
/// The bool says whether the relation is a partner (a single-valued slot).
pub static RELATIONS: LazyLock<Vec<(&'static str, &'static str, bool)>> = LazyLock::new(|| {
    vec![
        ("wife", "Wife", true),
        ("husband", "Husband", true),
        ("partner", "Partner", true),
        ("boyfriend", "Boyfriend", true),
        ("bf", "Boyfriend", true),
        ("gf", "Girlfriend", true),
        ("hubby", "Husband", true),
        ("wifey", "Wife", true),
        ("girlfriend", "Girlfriend", true),
        ("fiance", "Fiancé", true),
        ("fiancé", "Fiancé", true),
        ("fiancee", "Fiancée", true),
        ("fiancée", "Fiancée", true),
        ("spouse", "Spouse", true),
        ("son", "Son", false),
        ("daughter", "Daughter", false),
        ("stepson", "Stepson", false),
        ("stepdaughter", "Stepdaughter", false),
        ("kid", "Child", false),
        ("child", "Child", false),
        ("baby", "Baby", false),
        ("toddler", "Child", false),
        ("boy", "Son", false),
        ("girl", "Daughter", false),
        ("brother", "Brother", false),
        ("sister", "Sister", false),
        ("stepbrother", "Stepbrother", false),
        ("stepsister", "Stepsister", false),
        ("twin", "Twin", false),
        ("mother", "Mother", false),
        ("mom", "Mother", false),
        ("mum", "Mother", false),
        ("mama", "Mother", false),
        ("father", "Father", false),
        ("dad", "Father", false),
        ("papa", "Father", false),
        ("stepmom", "Stepmother", false),
        ("stepmother", "Stepmother", false),
        ("stepdad", "Stepfather", false),
        ("stepfather", "Stepfather", false),
        ("grandson", "Grandson", false),
        ("granddaughter", "Granddaughter", false),
        ("grandmother", "Grandmother", false),
        ("grandma", "Grandmother", false),
        ("granny", "Grandmother", false),
        ("nan", "Grandmother", false),
        ("nana", "Grandmother", false),
        ("grandfather", "Grandfather", false),
        ("grandpa", "Grandfather", false),
        ("granddad", "Grandfather", false),
        ("grandad", "Grandfather", false),
        ("aunt", "Aunt", false),
        ("auntie", "Aunt", false),
        ("uncle", "Uncle", false),
        ("cousin", "Cousin", false),
        ("niece", "Niece", false),
        ("nephew", "Nephew", false),
        ("sister-in-law", "Sister-in-law", false),
        ("brother-in-law", "Brother-in-law", false),
        ("mother-in-law", "Mother-in-law", false),
        ("father-in-law", "Father-in-law", false),
        ("daughter-in-law", "Daughter-in-law", false),
        ("son-in-law", "Son-in-law", false),
        ("best friend", "Best friend", false),
        ("bestie", "Best friend", false),
        ("roommate", "Roommate", false),
        ("flatmate", "Flatmate", false),
    ]
});

/// Plural relation words that introduce several names ("my kids Ada and Tom").
pub static RELATION_PLURALS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    vec![
        ("kids", "Children"),
        ("children", "Children"),
        ("sons", "Sons"),
        ("daughters", "Daughters"),
        ("boys", "Sons"),
        ("girls", "Daughters"),
        ("twins", "Twins"),
        ("grandkids", "Grandchildren"),
        ("grandchildren", "Grandchildren"),
        ("grandsons", "Grandsons"),
        ("granddaughters", "Granddaughters"),
        ("brothers", "Brothers"),
        ("sisters", "Sisters"),
        ("siblings", "Siblings"),
        ("parents", "Parents"),
    ]
});

/// Animals people keep, singular → label.
pub static PETS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    vec![
        ("dog", "Dog"),
        ("puppy", "Dog"),
        ("pup", "Dog"),
        ("cat", "Cat"),
        ("kitten", "Cat"),
        ("kitty", "Cat"),
        ("rabbit", "Rabbit"),
        ("bunny", "Rabbit"),
        ("hamster", "Hamster"),
        ("guinea pig", "Guinea pig"),
        ("parrot", "Parrot"),
        ("budgie", "Budgie"),
        ("bird", "Bird"),
        ("horse", "Horse"),
        ("pony", "Pony"),
        ("tortoise", "Tortoise"),
        ("turtle", "Turtle"),
        ("snake", "Snake"),
        ("lizard", "Lizard"),
        ("gecko", "Gecko"),
        ("ferret", "Ferret"),
        ("rat", "Rat"),
        ("goldfish", "Goldfish"),
        ("fish", "Fish"),
        ("chicken", "Chicken"),
        ("hen", "Hen"),
        ("goat", "Goat"),
        ("cockatiel", "Cockatiel"),
        ("beagle", "Dog"),
        ("labrador", "Dog"),
        ("lab", "Dog"),
        ("poodle", "Dog"),
        ("terrier", "Dog"),
        ("spaniel", "Dog"),
        ("collie", "Dog"),
        ("greyhound", "Dog"),
        ("husky", "Dog"),
        ("corgi", "Dog"),
        ("dachshund", "Dog"),
        ("retriever", "Dog"),
        ("shepherd", "Dog"),
        ("pug", "Dog"),
        ("chihuahua", "Dog"),
        ("mutt", "Dog"),
    ]
});

/// Languages (lowercase) as MEMORY writes them.
pub static LANGUAGES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let names: &[&str] = &[
        "Afrikaans",
        "Albanian",
        "Amharic",
        "Arabic",
        "Armenian",
        "Azerbaijani",
        "Basque",
        "Belarusian",
        "Bengali",
        "Bosnian",
        "Bulgarian",
        "Burmese",
        "Cantonese",
        "Catalan",
        "Cebuano",
        "Chinese",
        "Croatian",
        "Czech",
        "Danish",
        "Dari",
        "Dutch",
        "English",
        "Estonian",
        "Farsi",
        "Filipino",
        "Finnish",
        "Flemish",
        "French",
        "Gaelic",
        "Galician",
        "Georgian",
        "German",
        "Greek",
        "Gujarati",
        "Haitian Creole",
        "Hausa",
        "Hebrew",
        "Hindi",
        "Hungarian",
        "Icelandic",
        "Igbo",
        "Indonesian",
        "Irish",
        "Italian",
        "Japanese",
        "Javanese",
        "Kannada",
        "Kazakh",
        "Khmer",
        "Kikuyu",
        "Kinyarwanda",
        "Korean",
        "Kurdish",
        "Lao",
        "Latin",
        "Latvian",
        "Lithuanian",
        "Luxembourgish",
        "Macedonian",
        "Malay",
        "Malayalam",
        "Maltese",
        "Mandarin",
        "Maori",
        "Māori",
        "Marathi",
        "Mongolian",
        "Nepali",
        "Norwegian",
        "Pashto",
        "Persian",
        "Polish",
        "Portuguese",
        "Punjabi",
        "Quechua",
        "Romanian",
        "Russian",
        "Serbian",
        "Shona",
        "Sinhala",
        "Slovak",
        "Slovenian",
        "Somali",
        "Spanish",
        "Swahili",
        "Swedish",
        "Swiss German",
        "Tagalog",
        "Tamil",
        "Telugu",
        "Thai",
        "Tigrinya",
        "Turkish",
        "Twi",
        "Ukrainian",
        "Urdu",
        "Uzbek",
        "Vietnamese",
        "Welsh",
        "Wolof",
        "Xhosa",
        "Yiddish",
        "Yoruba",
        "Zulu",
        "isiZulu",
        "isiXhosa",
        "Sesotho",
        "Setswana",
        "Luo",
        "Kiswahili",
        "Tamazight",
        "Berber",
        "Esperanto",
        "ASL",
        "Sign Language",
        "BSL",
        "Auslan",
        "Hokkien",
        "Taiwanese",
        "Shanghainese",
    ];
    names.iter().map(|n| (leak_lower(n), *n)).collect()
});

fn leak_lower(s: &str) -> &'static str {
    Box::leak(s.to_lowercase().into_boxed_str())
}

/// The language named by the lowercase words starting at `words[0]`, with how many
/// words it takes ("swiss german" is two).
pub fn language_at(words: &[&str]) -> Option<(&'static str, usize)> {
    let two = match (words.first(), words.get(1)) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        _ => None,
    };
    if let Some(two) = two
        && let Some((_, name)) = LANGUAGES.iter().find(|(l, _)| *l == two)
    {
        return Some((name, 2));
    }
    let first = words.first()?;
    LANGUAGES
        .iter()
        .find(|(l, _)| l == first)
        .map(|(_, name)| (*name, 1))
}

/// Long-lasting health conditions, lowercase phrase → how MEMORY writes it. Passing
/// illnesses (flu, a cold, food poisoning) are deliberately absent.
pub static CONDITIONS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    vec![
        ("type 1 diabetes", "Type 1 diabetes"),
        ("type 2 diabetes", "Type 2 diabetes"),
        ("type one diabetes", "Type 1 diabetes"),
        ("type two diabetes", "Type 2 diabetes"),
        ("diabetes", "Diabetes"),
        ("prediabetes", "Prediabetes"),
        ("asthma", "Asthma"),
        ("adhd", "ADHD"),
        ("add", "ADD"),
        ("autism", "Autism"),
        ("dyslexia", "Dyslexia"),
        ("dyspraxia", "Dyspraxia"),
        ("dyscalculia", "Dyscalculia"),
        ("hashimoto's", "Hashimoto's"),
        ("hashimotos", "Hashimoto's"),
        ("hashimoto", "Hashimoto's"),
        ("hypothyroidism", "Hypothyroidism"),
        ("hyperthyroidism", "Hyperthyroidism"),
        ("graves' disease", "Graves' disease"),
        ("scoliosis", "Scoliosis"),
        ("high blood pressure", "High blood pressure"),
        ("hypertension", "High blood pressure"),
        ("low blood pressure", "Low blood pressure"),
        ("high cholesterol", "High cholesterol"),
        ("ibs", "IBS"),
        ("crohn's", "Crohn's disease"),
        ("crohns", "Crohn's disease"),
        ("crohn's disease", "Crohn's disease"),
        ("ulcerative colitis", "Ulcerative colitis"),
        ("colitis", "Colitis"),
        ("coeliac disease", "Coeliac disease"),
        ("celiac disease", "Celiac disease"),
        ("coeliac", "Coeliac disease"),
        ("celiac", "Celiac disease"),
        ("lupus", "Lupus"),
        ("multiple sclerosis", "Multiple sclerosis"),
        ("ms", "Multiple sclerosis"),
        ("epilepsy", "Epilepsy"),
        ("migraines", "Migraines"),
        ("chronic migraines", "Chronic migraines"),
        ("arthritis", "Arthritis"),
        ("rheumatoid arthritis", "Rheumatoid arthritis"),
        ("osteoarthritis", "Osteoarthritis"),
        ("psoriasis", "Psoriasis"),
        ("eczema", "Eczema"),
        ("pcos", "PCOS"),
        ("endometriosis", "Endometriosis"),
        ("depression", "Depression"),
        ("anxiety", "Anxiety"),
        ("bipolar", "Bipolar disorder"),
        ("bipolar disorder", "Bipolar disorder"),
        ("ocd", "OCD"),
        ("ptsd", "PTSD"),
        ("fibromyalgia", "Fibromyalgia"),
        ("sleep apnea", "Sleep apnea"),
        ("sleep apnoea", "Sleep apnoea"),
        ("tinnitus", "Tinnitus"),
        ("hearing loss", "Hearing loss"),
        ("hearing aids", "Wears hearing aids"),
        ("a hearing aid", "Wears a hearing aid"),
        ("a pacemaker", "Has a pacemaker"),
        ("chronic fatigue", "Chronic fatigue"),
        ("long covid", "Long COVID"),
        ("glaucoma", "Glaucoma"),
        ("gout", "Gout"),
        ("osteoporosis", "Osteoporosis"),
        ("kidney disease", "Kidney disease"),
        ("a heart condition", "Heart condition"),
        ("heart disease", "Heart disease"),
        ("atrial fibrillation", "Atrial fibrillation"),
        ("afib", "Atrial fibrillation"),
        ("narcolepsy", "Narcolepsy"),
        ("insomnia", "Insomnia"),
        ("chronic back pain", "Chronic back pain"),
        ("chronic pain", "Chronic pain"),
        ("ehlers-danlos", "Ehlers-Danlos syndrome"),
        ("eds", "Ehlers-Danlos syndrome"),
        ("pots", "POTS"),
        ("gerd", "GERD"),
        ("acid reflux", "Acid reflux"),
        ("a nut allergy", "Nut allergy"),
        ("a peanut allergy", "Peanut allergy"),
        ("lactose intolerance", "Lactose intolerant"),
        ("gluten intolerance", "Gluten intolerant"),
        ("color blindness", "Colour blind"),
        ("colour blindness", "Colour blind"),
        ("tourette's", "Tourette's"),
        ("cerebral palsy", "Cerebral palsy"),
        ("cystic fibrosis", "Cystic fibrosis"),
        ("sickle cell", "Sickle cell disease"),
        ("hiv", "HIV"),
        ("cancer", "Cancer"),
        ("a stoma", "Has a stoma"),
    ]
});

/// Conditions said as "I'm X" / "being X", lowercase phrase → MEMORY wording.
pub static CONDITION_ADJECTIVES: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| {
        vec![
            ("lactose intolerant", "Lactose intolerant"),
            ("gluten intolerant", "Gluten intolerant"),
            ("diabetic", "Diabetes"),
            ("type 1 diabetic", "Type 1 diabetes"),
            ("type 2 diabetic", "Type 2 diabetes"),
            ("prediabetic", "Prediabetes"),
            ("coeliac", "Coeliac disease"),
            ("celiac", "Celiac disease"),
            ("asthmatic", "Asthma"),
            ("epileptic", "Epilepsy"),
            ("colour blind", "Colour blind"),
            ("color blind", "Colour blind"),
            ("colour-blind", "Colour blind"),
            ("color-blind", "Colour blind"),
            ("colorblind", "Colour blind"),
            ("colourblind", "Colour blind"),
            ("deaf", "Deaf"),
            ("hard of hearing", "Hard of hearing"),
            ("partially sighted", "Partially sighted"),
            ("blind", "Blind"),
            ("dyslexic", "Dyslexia"),
            ("autistic", "Autistic"),
            ("neurodivergent", "Neurodivergent"),
            ("hypothyroid", "Hypothyroidism"),
            ("anemic", "Anaemia"),
            ("anaemic", "Anaemia"),
            ("immunocompromised", "Immunocompromised"),
            ("wheelchair user", "Wheelchair user"),
            ("a wheelchair user", "Wheelchair user"),
            ("an amputee", "Amputee"),
        ]
    });

/// Diets, a single-valued slot.
pub static DIETS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    vec![
        ("vegetarian", "Vegetarian"),
        ("veggie", "Vegetarian"),
        ("vegan", "Vegan"),
        ("pescatarian", "Pescatarian"),
        ("pescetarian", "Pescatarian"),
        ("flexitarian", "Flexitarian"),
        ("plant-based", "Plant-based diet"),
        ("plant based", "Plant-based diet"),
        ("keto", "Keto diet"),
        ("paleo", "Paleo diet"),
        ("carnivore", "Carnivore diet"),
    ]
});

/// Words after which "in"/"at" introduces a passing state, not a home ("in Paris
/// *this week*", "living in Rome *for the summer*").
pub const TRANSIENT_MARKERS: &[&str] = &[
    "today",
    "tonight",
    "this morning",
    "this afternoon",
    "this evening",
    "yesterday",
    "last night",
    "right now",
    " rn",
    "atm",
    "at the moment",
    "this week",
    "this weekend",
    "since yesterday",
    "since last night",
    "since this morning",
    "for a few days",
    "for the weekend",
    "for the summer",
    "for a week",
    "for two weeks",
    "for a month",
    "on holiday",
    "on vacation",
    "on a trip",
    "for a conference",
    "for work this",
    "tomorrow",
    "next week",
    "all day",
    "since monday",
    "since tuesday",
    "since wednesday",
    "since thursday",
    "since friday",
    "since saturday",
    "since sunday",
    "these days",
    "for now",
    "temporarily",
    "this month",
    "hungover",
    "post-call",
];

/// Hobbies and pastimes, lowercase, as nouns or gerunds.
pub static HOBBIES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         running, trail running, jogging, swimming, wild swimming, sea swimming, open water \
         swimming, surfing, climbing, rock climbing, bouldering, hiking, tramping, trekking, \
         walking, cycling, biking, mountain biking, fishing, bass fishing, fly fishing, \
         sailing, rowing, kayaking, canoeing, paddleboarding, skiing, snowboarding, skating, \
         ice skating, skateboarding, dancing, salsa, ballet, singing, painting, drawing, \
         sketching, knitting, crochet, crocheting, sewing, quilting, embroidery, woodworking, \
         woodturning, carpentry, gardening, baking, cooking, brewing, homebrewing, \
         photography, film photography, reading, writing, poetry, gaming, video games, board \
         games, chess, go, poker, bridge, yoga, pilates, meditation, weightlifting, \
         powerlifting, lifting, crossfit, boxing, kickboxing, martial arts, judo, karate, \
         taekwondo, jiu-jitsu, bjj, muay thai, fencing, archery, golf, tennis, table tennis, \
         ping pong, badminton, squash, padel, pickleball, volleyball, beach volleyball, \
         basketball, football, soccer, 5-a-side football, five-a-side, rugby, cricket, \
         baseball, softball, hockey, ice hockey, field hockey, handball, netball, lacrosse, \
         ultimate, frisbee, pottery, ceramics, genealogy, birdwatching, birding, astronomy, \
         stargazing, calligraphy, origami, lego, model trains, model making, beekeeping, \
         camping, backpacking, mountaineering, triathlon, triathlons, marathons, half \
         marathons, ultramarathons, diving, scuba diving, freediving, snorkelling, \
         snorkeling, horse riding, riding, equestrian, sculpting, sculpture, piano, guitar, \
         bass, bass guitar, violin, fiddle, viola, cello, drums, ukulele, saxophone, sax, \
         flute, clarinet, trumpet, trombone, harp, accordion, banjo, mandolin, harmonica, \
         bagpipes, choir, podcasting, blogging, vlogging, 3d printing, metalwork, \
         blacksmithing, volunteering, crosswords, sudoku, puzzles, jigsaws, anime, manga, \
         k-pop, kpop, vinyl, record collecting, collecting, stamp collecting, coin \
         collecting, journaling, scrapbooking, foraging, hunting, shooting, motorcycling, \
         rally, karting, f1, formula 1, wine, whisky, coffee, tea, cosplay, larping, dungeons \
         and dragons, d&d, dnd, tabletop games, rpgs, bowling, darts, snooker, pool, \
         billiards, curling, cross-country skiing, orienteering, parkour, aikido, kendo, \
         capoeira, zumba, spinning, barre, aerial silks, pole dancing, tap dancing, ballroom \
         dancing, line dancing, folk dancing, ceilidh, music production, producing, djing, \
         beatmaking, songwriting, composing, acting, theatre, theater, improv, stand-up, \
         magic, juggling, bonsai, aquariums, fishkeeping, birdkeeping, sourdough, fermenting, \
         bbq, barbecue, smoking meat, grilling, bikepacking, geocaching, urban sketching, \
         watercolour, watercolor, oil painting, printmaking, linocut, leatherwork, knife \
         making, jewellery making, jewelry making, candle making, soap making, weaving, \
         spinning yarn, felting, macrame, cross-stitch, needlepoint, lacemaking, genealogy \
         research, family history, local history, history, languages, astrophotography, drone \
         flying, rc cars, model aircraft, ham radio, amateur radio, electronics, arduino, \
         raspberry pi, tinkering, book club, trivia, quiz nights, escape rooms, running club, \
         parkrun, ultrarunning, caving, canyoning, paragliding, skydiving, windsurfing, \
         kitesurfing, wakeboarding, water polo, synchronised swimming, gymnastics, \
         calisthenics, bodybuilding, strength training, weight training, tai chi, qigong, \
         sauna, cold water swimming, ice swimming, walking football ",
    )
});

/// Programming languages and tools people say they use or prefer.
pub static TOOLS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         python, r, go, golang, rust, java, javascript, typescript, c#, c++, c, kotlin, \
         swift, ruby, php, scala, elixir, haskell, julia, matlab, sql, postgres, postgresql, \
         mysql, sqlite, excel, vba, power bi, tableau, pandas, dax, figma, sketch, photoshop, \
         illustrator, indesign, blender, unity, unreal, godot, ableton, logic, fl studio, pro \
         tools, reaper, notion, obsidian, vim, emacs, vs code, vscode, neovim, linux, \
         windows, mac, macos, ubuntu, arch, docker, kubernetes, terraform, aws, gcp, azure, \
         react, vue, angular, svelte, django, flask, rails, laravel, spring, node, deno, \
         bash, zsh, powershell, latex, word, google sheets, sheets, airtable, jira, trello, \
         asana, slack, trados, memoq, storyline, articulate, canva, lightroom, premiere, \
         davinci resolve, final cut, autocad, revit, solidworks, fusion 360, qgis, arcgis, \
         spss, stata, sas, jupyter, rstudio, xcode, android studio, intellij, pycharm, tmux, \
         git, github, gitlab, wordpress, shopify, webflow, framer, zotero, anki, duolingo ",
    )
});

/// Nationalities and peoples (lowercase) that follow "I'm" without being names.
pub static DEMONYMS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         american, british, english, scottish, welsh, irish, canadian, australian, kiwi, \
         mexican, brazilian, argentinian, argentine, chilean, colombian, peruvian, \
         venezuelan, cuban, dominican, puerto rican, jamaican, haitian, french, german, \
         italian, spanish, portuguese, dutch, belgian, swiss, austrian, danish, swedish, \
         norwegian, finnish, icelandic, polish, czech, slovak, hungarian, romanian, \
         bulgarian, greek, turkish, cypriot, serbian, croatian, bosnian, slovenian, albanian, \
         macedonian, ukrainian, russian, belarusian, lithuanian, latvian, estonian, georgian, \
         armenian, azerbaijani, kazakh, uzbek, iranian, persian, iraqi, syrian, lebanese, \
         jordanian, palestinian, israeli, egyptian, moroccan, algerian, tunisian, libyan, \
         sudanese, ethiopian, eritrean, somali, kenyan, ugandan, tanzanian, rwandan, \
         nigerian, ghanaian, senegalese, ivorian, cameroonian, congolese, angolan, zambian, \
         zimbabwean, mozambican, malawian, south african, namibian, indian, pakistani, \
         bangladeshi, sri lankan, nepali, nepalese, afghan, chinese, japanese, korean, \
         taiwanese, vietnamese, thai, filipino, filipina, indonesian, malaysian, singaporean, \
         burmese, cambodian, laotian, mongolian, saudi, emirati, qatari, kuwaiti, omani, \
         yemeni, new zealander, fijian, samoan, tongan, maori, igbo, yoruba, hausa, zulu, \
         xhosa, kikuyu, luo, tamil, punjabi, gujarati, bengali, kurdish, berber, amazigh, \
         basque, catalan, galician, flemish, quebecois, latina, latino, latinx, hispanic, \
         asian, african, european, arab, jewish, roma, sami, inuit, aboriginal, native \
         american, first nations, hawaiian, creole, swiss-german, cantonese, hakka, sikh ",
    )
});

/// Months, weekdays and holidays: capitalised, but never names or places.
pub static CALENDAR: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         january, february, march, april, may, june, july, august, september, october, \
         november, december, jan, feb, mar, apr, jun, jul, aug, sep, sept, oct, nov, dec, \
         monday, tuesday, wednesday, thursday, friday, saturday, sunday, christmas, easter, \
         ramadan, eid, diwali, hanukkah, thanksgiving, halloween, xmas, new year, \
         valentine's, valentines, passover, lent, advent ",
    )
});

/// Frequent English words, lowercase: never taken for a name, and they end the
/// lowercase names and places of people who write without capitals.
pub static COMMON_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "\
         river, lake, sea, ocean, coast, hills, mountains, woods, forest, countryside, \
         suburbs, centre, center, station, campus, harbour, harbor, port, canal, square, \
         market, road, street, avenue, building, block, estate, neighbourhood, neighborhood, \
         frustrated, annoyed, overwhelmed, surprised, shocked, disappointed, relieved, \
         grateful, thankful, blessed, lucky, broke, sober, awake, alive, sure, certain, \
         fear, hope, denial, peace, sin, poverty, luxury, harmony, misery, chaos, squalor, \
         comfort, style, secret, silence, hiding, terror, dread, limbo, panic, shame, hell, \
         heaven, paradise, bliss, fantasy, dreams, reality, debt, pain, agony, suspense, \
         a, about, above, across, actually, after, again, against, ago, all, almost, alone, \
         along, already, also, although, always, am, among, an, and, another, any, anyone, \
         anything, anyway, are, around, as, ask, asked, asking, asks, at, away, back, bad, \
         basically, be, because, been, before, being, below, best, better, between, big, bit, \
         both, but, by, called, came, can, cannot, come, comes, could, currently, day, days, \
         did, do, does, doing, done, down, during, each, either, else, enough, even, ever, \
         every, everyone, everything, fine, first, for, from, full, get, gets, getting, give, \
         go, goes, going, gone, good, got, great, had, has, have, having, he, her, here, \
         hers, herself, him, himself, his, home, honestly, how, however, i, if, in, into, is, \
         it, its, itself, just, keep, keeps, kind, know, knows, last, later, least, less, \
         let, like, likes, little, lol, long, look, looks, lot, lots, love, loves, made, \
         make, makes, many, maybe, me, might, mine, more, most, much, must, my, myself, need, \
         needs, never, new, next, nice, no, none, nor, not, nothing, now, of, off, often, oh, \
         ok, okay, old, on, once, one, only, or, other, others, our, ours, out, over, own, \
         part, please, pls, plus, pretty, quite, rather, really, right, said, same, say, \
         says, see, seems, she, should, since, so, some, someone, something, sometimes, soon, \
         still, such, sure, take, takes, than, thanks, that, the, their, theirs, them, then, \
         there, these, they, thing, things, think, thinks, this, those, though, through, \
         time, to, today, together, told, too, took, totally, tried, tries, try, trying, \
         turns, turned, two, under, until, up, upon, us, usually, very, want, wants, wanted, \
         was, way, we, well, went, were, what, when, where, whether, which, while, who, whom, \
         whose, why, will, with, without, won, would, yeah, yes, yet, you, your, yours, hi, \
         hello, hey, thank, sorry, btw, omg, haha, hmm, ugh, wow, yay, cheers, dear, hiya, \
         morning, evening, night, week, weekend, month, year, years, months, weeks, food, \
         toys, toy, bed, bowl, litter, box, birthday, party, school, work, job, class, team, \
         friend, friends, family, house, room, car, phone, laptop, computer, wedding, gift, \
         present, card, name, names, age, baby, kid, kids, child, children, dog, cat, mom, \
         mum, dad, mother, father, wife, husband, son, daughter, sister, brother, partner, \
         boyfriend, girlfriend, parents, grandma, grandpa, hates, works, lives, lived, died, \
         passed, born, started, finished, moved, became, becomes, sick, tired, happy, sad, \
         busy, ready, free, late, early, young, small, huge, tiny, worst, favorite, \
         favourite, fav, english, proud, excited, nervous, glad, afraid, scared, worried, \
         confused, stuck, lost, bored, hungry, thirsty, curious, stressed, exhausted, \
         pregnant, single, married, divorced, separated, engaged, retired, unemployed, \
         self-employed, freelance, vegetarian, vegan, allergic, diabetic, asthmatic, online, \
         offline, interested, obsessed, learning, studying, working, living, moving, looking, \
         thinking, planning, hoping, writing, reading, building, making, using, taking, \
         coming, starting, leaving, staying, feeling, struggling, wondering, definitely, \
         probably, certainly, absolutely, literally, seriously, finally, recently, lately, \
         originally, mostly, mainly, twice, grown, teen, teenager, adult, toddler, newborn, \
         infant, twins, ai, chatgpt, gpt, claude, bot, assistant, google, youtube, instagram, \
         tiktok, facebook, whatsapp, linkedin, reddit, twitter, uni, college, university, \
         church, office, lab, clinic, hospital, ward, shop, store, restaurant, cafe, café, \
         gym, pool, park, beach, city, town, village, country, state, area, place, side, \
         north, south, east, west, central, downtown, nearby, near, outside, inside, abroad, \
         overseas, somewhere, anywhere, everywhere, nowhere, mr, mrs, ms, dr, sir, madam, \
         miss, lady, guy, guys, man, woman, men, women, boy, girl, boys, girls, people, \
         person, everybody, nobody, somebody, anybody, dude, bro, mate, buddy, folks, y'all, \
         ya, u, ur, im, ive, id, dont, cant, wont, isnt, thats, whats, theres, hes, shes, \
         lets, gonna, wanna, gotta, kinda, sorta, dunno, idk, tbh, imo, fyi, asap, etc, eg, \
         ie, vs, via, per, re, ps, yep, nope, nah, meh, hm, ah, eh, um, uh, er, ha, lmao, \
         rofl, smh, ngl, irl, rn, atm, tho, thru, cuz, coz, bc, pic, pics, photo, photos, \
         video, videos, email, emails, message, messages, text, texts, call, calls, meeting, \
         meetings, project, projects, plan, plans, idea, ideas, question, questions, problem, \
         problems, issue, issues, help, advice, tips, list, lists, recipe, recipes, story, \
         stories, poem, poems, song, songs, book, books, movie, movies, show, shows, game, \
         games, app, apps, website, site, page, pages, post, posts, thread, chat, yo, y, \
         shall, may, ought, dare, used, gotten, put, set, tell, who's, what's, that's, \
         there's, here's, where's, how's, it's, he's, she's, let's, one's, name's, teacher, \
         doctor, nurse, boss, manager, colleague, coworker, neighbor, neighbour, landlord, \
         roommate, flatmate, client, customer, patient, student, students, crew, staff, \
         everyone's, lady's, man's, woman's ",
    )
});

/// Whether a capitalised word could be a person's first name.
pub fn could_be_name(word: &str) -> bool {
    let lower = word.to_lowercase();
    let letters_ok = word
        .chars()
        .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    // "SQL", "NASA": shouted acronyms are not first names.
    let acronym = word.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && word.chars().all(|c| !c.is_lowercase());
    letters_ok
        && !acronym
        && !TOOLS.contains(lower.as_str())
        && word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && !COMMON_WORDS.contains(lower.as_str())
        && !CALENDAR.contains(lower.as_str())
        && !DEMONYMS.contains(lower.as_str())
        && language_at(&[lower.as_str()]).is_none()
        && !ROLES.contains(lower.as_str())
        && !HOBBIES.contains(lower.as_str())
        && !CONDITION_ADJECTIVES.iter().any(|(c, _)| *c == lower)
        && !DIETS.iter().any(|(d, _)| *d == lower)
        && !PETS.iter().any(|(p, _)| *p == lower)
        && !RELATIONS.iter().any(|(r, _, _)| *r == lower)
}
