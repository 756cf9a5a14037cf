//! Words the world is written with: names, niches, captions and comment fragments in
//! Brazilian Portuguese, English and Spanish. Comments are composed from fragments (opener,
//! core, topic, ending, slang, typos) so that thousands of distinct sentences come out.

use crate::world::Lang;

pub const NICHES: [&str; 14] = [
    "fashion", "beauty", "fitness", "food", "travel", "gaming", "tech", "music", "comedy",
    "parenting", "finance", "sports", "education", "pets",
];

/// Relative popularity of niches among creators.
pub const NICHE_WEIGHTS: [f64; 14] = [12.0, 11.0, 10.0, 10.0, 8.0, 7.0, 6.0, 7.0, 8.0, 5.0, 4.0, 6.0, 3.0, 3.0];

/// (country, language, weight): Brazil-heavy, as Analisa's users are.
pub const COUNTRIES: [(&str, Lang, f64); 10] = [
    ("BR", Lang::Pt, 55.0), ("US", Lang::En, 14.0), ("PT", Lang::Pt, 5.0), ("MX", Lang::Es, 7.0),
    ("AR", Lang::Es, 6.0), ("CO", Lang::Es, 3.0), ("ES", Lang::Es, 3.0), ("GB", Lang::En, 3.0),
    ("CA", Lang::En, 2.0), ("AU", Lang::En, 2.0),
];

pub fn first_names(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["Ana", "Beatriz", "Camila", "Daniela", "Eduarda", "Fernanda", "Gabriela", "Helena", "Isabela", "Juliana", "Larissa", "Mariana", "Natália", "Paula", "Rafaela", "Sofia", "Thaís", "Vitória", "Bruno", "Caio", "Diego", "Felipe", "Gustavo", "Henrique", "Igor", "João", "Lucas", "Matheus", "Pedro", "Rafael", "Thiago", "Vinícius", "Letícia", "Bianca", "Carol", "Duda", "Lívia", "Manu", "Rodrigo", "Leo"],
        Lang::En => &["Emma", "Olivia", "Ava", "Mia", "Chloe", "Grace", "Lily", "Zoe", "Hannah", "Madison", "Ethan", "Liam", "Noah", "Mason", "Logan", "Jake", "Ryan", "Tyler", "Dylan", "Austin", "Kayla", "Brooke", "Jordan", "Taylor"],
        Lang::Es => &["Valentina", "Camila", "Lucía", "Martina", "Sofía", "Daniela", "Mariana", "Ximena", "Mateo", "Santiago", "Diego", "Alejandro", "Javier", "Nicolás", "Tomás", "Emilio", "Paula", "Renata"],
    }
}

pub fn surnames(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Costa", "Rodrigues", "Almeida", "Nascimento", "Carvalho", "Gomes", "Martins", "Araújo", "Ribeiro", "Barbosa", "Rocha", "Dias", "Moreira", "Cardoso", "Teixeira"],
        Lang::En => &["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore", "Clark", "Walker", "Hall", "Young", "King"],
        Lang::Es => &["García", "Martínez", "López", "González", "Rodríguez", "Fernández", "Pérez", "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz"],
    }
}

/// Words creators put in handles, by niche.
pub fn handle_words(niche: &str) -> &'static [&'static str] {
    match niche {
        "fashion" => &["style", "look", "moda", "closet", "outfit", "chic"],
        "beauty" => &["beauty", "makeup", "make", "glow", "skin", "beleza"],
        "fitness" => &["fit", "treino", "gym", "strong", "run", "shape"],
        "food" => &["chef", "cozinha", "eats", "receitas", "foodie", "kitchen"],
        "travel" => &["travel", "viaja", "trip", "mundo", "nomad", "rota"],
        "gaming" => &["gamer", "plays", "gg", "games", "live", "pro"],
        "tech" => &["tech", "dev", "gadgets", "code", "review", "byte"],
        "music" => &["music", "beats", "sound", "canta", "songs", "mix"],
        "comedy" => &["humor", "zueira", "lol", "comedy", "risos", "memes"],
        "parenting" => &["mae", "mom", "dad", "familia", "kids", "maternidade"],
        "finance" => &["invest", "grana", "money", "financas", "bolsa", "rico"],
        "sports" => &["futebol", "sports", "bola", "fc", "atleta", "surf"],
        "education" => &["prof", "aula", "estuda", "learn", "edu", "dicas"],
        _ => &["pets", "dog", "cat", "pet", "patas", "au"],
    }
}

pub fn bio(niche: &str, lang: Lang) -> &'static [&'static str] {
    match (niche, lang) {
        (_, Lang::Pt) => &["Criador(a) de conteúdo ✨", "📍 São Paulo | parcerias no direct", "Vivendo um dia de cada vez 💛", "Contato: link na bio", "Compartilho minha rotina por aqui", "Dicas todos os dias 👇"],
        (_, Lang::En) => &["Content creator ✨", "📍 LA | collabs via DM", "Sharing my everyday life", "Business inquiries: link below", "New videos every week 👇", "Just vibes and good content"],
        (_, Lang::Es) => &["Creador(a) de contenido ✨", "📍 CDMX | colaboraciones por DM", "Compartiendo mi día a día", "Contacto: link en bio"],
    }
}

/// Opening lines of captions by niche.
pub fn caption_hooks(niche: &str, lang: Lang) -> &'static [&'static str] {
    match (niche, lang) {
        ("fashion", Lang::Pt) => &["Look do dia", "Combinação favorita da semana", "Peças coringa pro inverno", "Provador de hoje"],
        ("fashion", _) => &["Outfit of the day", "My favourite combo this week", "Closet staples", "Try-on haul"],
        ("beauty", Lang::Pt) => &["Make de hoje", "Minha rotina de skincare", "Testei a nova base", "Tutorial rapidinho"],
        ("beauty", _) => &["Today's makeup", "My skincare routine", "Testing the new foundation", "Quick tutorial"],
        ("fitness", Lang::Pt) => &["Treino de hoje", "Dia de perna", "Foco total", "Sem desculpas hoje"],
        ("fitness", _) => &["Today's workout", "Leg day", "Full focus", "No excuses today"],
        ("food", Lang::Pt) => &["Receita fácil de hoje", "Bolo de cenoura fofinho", "Almoço em 15 minutos", "Testei o restaurante novo"],
        ("food", _) => &["Easy recipe of the day", "Fluffy banana bread", "Lunch in 15 minutes", "Trying the new spot in town"],
        ("travel", Lang::Pt) => &["Pôr do sol em Jeri", "Roteiro de 3 dias", "Cantinho escondido", "Partiu viagem"],
        ("travel", _) => &["Sunset views", "3-day itinerary", "Hidden gem", "Off we go"],
        ("gaming", Lang::Pt) => &["Jogada da semana", "Live hoje às 20h", "Subi de elo", "Review do lançamento"],
        ("gaming", _) => &["Play of the week", "Live tonight at 8", "Ranked up", "Launch review"],
        ("tech", Lang::Pt) => &["Review completo", "Vale a pena comprar?", "Unboxing do novo celular", "3 apps que uso todo dia"],
        ("tech", _) => &["Full review", "Is it worth it?", "Unboxing the new phone", "3 apps I use every day"],
        ("music", Lang::Pt) => &["Cover novo saindo", "Ensaio de hoje", "Música nova no ar", "Trecho do show"],
        ("music", _) => &["New cover out", "Rehearsal day", "New song out now", "Clip from the show"],
        ("comedy", Lang::Pt) => &["Quando a mãe pergunta", "Todo mundo já passou por isso", "Pov: segunda-feira", "Parte 2 que vocês pediram"],
        ("comedy", _) => &["When your mom asks", "We've all been there", "POV: Monday morning", "Part 2 you asked for"],
        ("parenting", Lang::Pt) => &["Rotina com as crianças", "Maternidade real", "Dica pra hora de dormir", "Lanche das crianças"],
        ("parenting", _) => &["Morning routine with the kids", "Real parenting", "Bedtime tip", "Kids' snack ideas"],
        ("finance", Lang::Pt) => &["Como guardar dinheiro", "Minha carteira do mês", "Reserva de emergência", "Erro que todo mundo comete"],
        ("finance", _) => &["How to save money", "My portfolio this month", "Emergency fund 101", "The mistake everyone makes"],
        ("sports", Lang::Pt) => &["Golaço no fim de semana", "Treino de hoje no campo", "Dia de jogo", "Bastidores da competição"],
        ("sports", _) => &["Weekend banger", "Training session", "Game day", "Behind the scenes"],
        ("education", Lang::Pt) => &["Resumo pro ENEM", "Dica de estudo", "Aprenda em 1 minuto", "Como eu organizo meus estudos"],
        ("education", _) => &["Study tip", "Learn this in one minute", "How I organise my notes", "Exam prep"],
        ("pets", Lang::Pt) => &["Olha a carinha dele", "Passeio no parque", "Dia de banho", "Ela aprendeu um truque novo"],
        (_, Lang::Pt) => &["Olha a carinha dele", "Passeio no parque", "Dia de banho", "Ela aprendeu um truque novo"],
        (_, _) => &["Look at this face", "Park walk", "Bath day", "She learned a new trick"],
    }
}

pub fn caption_bodies(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["O que vocês acharam?", "Conta aqui nos comentários 👇", "Salva pra não esquecer!", "Marca quem precisa ver isso", "Foi difícil mas valeu a pena", "Amei o resultado 😍", "Quem mais ama?", "Mais detalhes nos stories", ""],
        Lang::En => &["What do you think?", "Tell me in the comments 👇", "Save this for later!", "Tag someone who needs this", "Hard work pays off", "Loved how it turned out 😍", "Who else?", "More in my stories", ""],
        Lang::Es => &["¿Qué opinan?", "Cuéntenme en los comentarios 👇", "¡Guárdalo para después!", "Etiqueta a quien necesita ver esto", "Me encantó el resultado 😍", ""],
    }
}

pub fn hashtags(niche: &str) -> &'static [&'static str] {
    match niche {
        "fashion" => &["moda", "lookdodia", "ootd", "fashion", "estilo", "style", "outfit", "tendencia"],
        "beauty" => &["make", "maquiagem", "skincare", "beauty", "makeup", "beleza", "glowup"],
        "fitness" => &["fitness", "treino", "academia", "gym", "foco", "workout", "saude", "projetoverao"],
        "food" => &["receitas", "comidacaseira", "foodie", "receitafacil", "food", "gastronomia", "doces"],
        "travel" => &["viagem", "travel", "turismo", "wanderlust", "praia", "brasil", "viajar"],
        "gaming" => &["games", "gamer", "gaming", "twitch", "ps5", "fortnite", "valorant"],
        "tech" => &["tecnologia", "tech", "smartphone", "review", "apple", "android", "setup"],
        "music" => &["musica", "music", "cover", "cantor", "violao", "newmusic", "sertanejo"],
        "comedy" => &["humor", "memes", "comedia", "funny", "zueira", "viral", "risada"],
        "parenting" => &["maternidade", "maedemenino", "familia", "parenting", "momlife", "criancas"],
        "finance" => &["financas", "investimentos", "dinheiro", "educacaofinanceira", "bolsa", "money"],
        "sports" => &["futebol", "esporte", "sports", "corrida", "surf", "basquete", "treino"],
        "education" => &["estudos", "enem", "dicasdeestudo", "educacao", "aprender", "concurso"],
        _ => &["pets", "cachorro", "gato", "dogsofinstagram", "catsofinstagram", "petlovers", "amopets"],
    }
}

pub const GENERIC_HASHTAGS: [&str; 8] = ["fyp", "foryou", "explore", "instagood", "reels", "viral", "trend", "brasil"];

/// Brands creators mention and partner with.
pub const BRANDS: [&str; 20] = [
    "natura", "oboticario", "nike", "adidas", "samsungbrasil", "nubank", "ifood", "magazineluiza",
    "shein_brasil", "sephorabrasil", "growthsupplements", "netshoes", "amazonbrasil", "mercadolivre",
    "havaianas", "lojasrenner", "cea_brasil", "pantene", "itau", "vivo",
];

/// How creators disclose a paid partnership: (text in the caption, hashtag or not).
pub fn disclosures(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["#publi", "#publicidade", "#ad", "parceria paga com", "#recebido", "#publipost"],
        Lang::En => &["#ad", "#sponsored", "paid partnership with", "#partner", "#gifted"],
        Lang::Es => &["#publi", "#ad", "colaboración pagada con", "#publicidad"],
    }
}

// ---- comments ----------------------------------------------------------------------------

pub fn openers(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["", "", "", "mds", "gente", "meu deus", "amiga", "socorro", "aaaa", "nossa", "cara", "mano", "sério", "ai", "uau", "vei", "olha", "pqp"],
        Lang::En => &["", "", "", "omg", "wow", "ok but", "honestly", "yesss", "girl", "bro", "lol", "wait", "ngl", "dude"],
        Lang::Es => &["", "", "wow", "amiga", "dios mío", "oye", "jajaja", "uff"],
    }
}

pub fn positive_cores(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["que lindo", "amei demais", "perfeita como sempre", "arrasou", "top demais", "que foto incrível", "to apaixonada", "me inspira muito", "conteúdo maravilhoso", "que vibe boa", "quero muito", "salvei aqui", "melhor perfil", "sensacional", "vc é demais", "incrível esse resultado", "ficou show", "muito bom mesmo", "curti demais", "que energia boa", "adorei a dica", "maravilhosa", "que talento", "chorei de rir", "fez meu dia", "que orgulho de vc", "tá um arraso", "amo seus vídeos", "obrigada pela dica", "deu certinho aqui", "perfeito demais", "tô viciada nesse perfil"],
        Lang::En => &["love this", "so beautiful", "you nailed it", "obsessed", "this is amazing", "goals", "stunning", "best content on here", "can't wait to try this", "so inspiring", "slay", "absolutely love it", "this made my day", "you're killing it", "this is fire", "perfection", "need this", "thank you for sharing", "tried it and it worked", "so good", "love your vibe", "iconic", "you never miss", "this is gold"],
        Lang::Es => &["me encanta", "qué bonito", "increíble", "eres lo máximo", "qué buena idea", "te quedó perfecto", "me inspiras mucho", "lo mejor"],
    }
}

pub fn negative_cores(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["que decepção", "não gostei", "pior vídeo", "que vergonha", "muito caro isso", "parei de seguir", "só faz publi agora", "conteúdo fraco", "que chato", "isso é mentira", "desnecessário", "horrível", "não recomendo", "perdeu a essência", "que preguiça", "ninguém aguenta mais", "propaganda enganosa", "comprei e não chegou", "cadê a resposta", "deu tudo errado aqui", "não funciona", "que feio", "tá forçado demais", "saudades do conteúdo antigo", "péssimo atendimento dessa marca"],
        Lang::En => &["this is so fake", "unfollowing", "worst review ever", "such a scam", "not worth it", "boring", "another ad smh", "so disappointed", "terrible advice", "stop lying", "this aged badly", "cringe", "didn't work for me", "overpriced junk", "you changed", "this is misleading", "waste of money"],
        Lang::Es => &["qué decepción", "no me gustó", "muy caro", "pura publicidad", "no funciona", "qué aburrido"],
    }
}

/// Praise that is meant the other way round: labelled negative.
pub fn ironic_cores(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["nossa que ótimo, mais uma publi", "parabéns pela propaganda enganosa", "adorei esperar 3 meses pelo produto", "que lindo ignorar os seguidores", "amei pagar caro nisso", "maravilha, mais um desconto que não funciona", "incrível como tudo agora é #publi"],
        Lang::En => &["wow great, another sponsored post", "love how you never reply", "amazing how everything is an ad now", "so glad I paid for this", "great, the discount code doesn't work again"],
        Lang::Es => &["genial, otra publicidad", "qué bien, otra vez sin respuesta"],
    }
}

pub fn neutral_cores(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["qual o nome da música", "onde comprou", "que horas é a live", "alguém sabe o preço", "marca a loja pf", "primeira vez aqui", "vi no stories", "quanto custa", "tem link", "e o resultado", "vou testar", "onde fica esse lugar", "qual câmera vc usa", "quando sai o próximo", "tem tamanho P", "entrega pra Portugal", "qual o cupom", "isso é de qual marca", "dá pra fazer sem forno", "que app é esse"],
        Lang::En => &["what song is this", "where is this", "link", "how much is it", "what camera do you use", "first time here", "when is the next video", "what brand is that", "is this available in the UK", "what size are you wearing", "does it ship to Canada", "which app is this", "recipe please", "what's the code"],
        Lang::Es => &["qué canción es", "dónde lo compraste", "cuánto cuesta", "cuál es la marca", "hay link"],
    }
}

pub fn positive_endings(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["", "😍", "❤️", "🔥", "👏👏", "kkkk", "!!", "😂❤️", "✨", "🙌", "💛", "🥰", "kkkkkkk", "demais"],
        Lang::En => &["", "😍", "🔥", "❤️", "🙌", "!!!", "lol", "✨", "💯", "🥹", "haha"],
        Lang::Es => &["", "😍", "❤️", "🔥", "jajaja", "!!"],
    }
}

pub fn negative_endings(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Pt => &["", "😒", "🙄", "👎", "😡", "affs", "aff", "...", "🤮", "sinceramente", "😤"],
        Lang::En => &["", "😒", "🙄", "👎", "😡", "smh", "...", "ugh", "seriously"],
        Lang::Es => &["", "😒", "🙄", "👎", "..."],
    }
}

pub const EMOJI_ONLY: [&str; 12] = ["😍😍😍", "🔥🔥", "👏👏👏", "❤️", "🙌🙌", "😂😂😂", "💯", "🔥", "😍", "❤️❤️", "👏", "✨✨"];

/// What comment pods and bots write: generic enough for any post.
pub const POD_COMMENTS: [&str; 8] = ["Amazing!!", "Great post 🔥", "Love it 😍", "Nice!", "🔥🔥🔥", "👏👏👏", "Awesome content", "Incrível!!"];
