"""
Build `fixtures/data/`: small hand-written SQuAD-v1.1-format QA files for tests and the demo.

The texts below are original, written for this project (the facts are common knowledge; no
paragraph is copied from Wikipedia or from any data set). Each answer is given as its text
(plus, when the text occurs more than once in the context, the index of the occurrence meant);
`answer_start` is computed by locating it in the context and checked with
`context[start:start + len(text)] == text`, except for the deliberate defects listed in
`EXPECTED_DEFECTS`, which the build also checks are present (and that there are no others).

Output: UTF-8 JSON (`ensure_ascii=False`, `indent=1`, sorted keys, questions sorted by id,
trailing newline) and `README.md`. Deterministic: running it twice gives byte-identical files.
No network, no other input.

    .venv/bin/python scripts/build_fixture_data.py [--out fixtures/data]
"""

import argparse
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "fixtures", "data")

# Deliberate span defects an answer can carry (parallel-reader test cases).
NOT_IN_CONTEXT = "not_in_context"  # answer text absent from the context; answer_start -1
START_OFF_BY_3 = "start_off_by_3"  # answer_start 3 characters past the (unique) occurrence
SHIFT = 3

# (file, question id) -> what is wrong. The build fails if the data holds any other defect.
EXPECTED_DEFECTS: dict[tuple[str, str], str] = {
    ("parallel/squad_ja.json", "sq-007"): (
        "answer text `3776メートル` is not in the context (which writes `3,776メートル`); "
        "answer_start is -1"
    ),
    ("parallel/squad_ja.json", "sq-010"): "no answer: `answers` is an empty list",
    ("parallel/squad_ko.json", "sq-004"): (
        "answer_start points 3 characters past the answer; the text `고요의 바다` occurs "
        "once in the context, so it can be found by search"
    ),
    ("parallel/squad_ko.json", "sq-013"): (
        "question missing entirely (the id is in squad_en.json; its context is still there)"
    ),
}


@dataclass(frozen=True)
class Ans:
    """An answer given by its text; `occurrence` picks among repeated occurrences (0-based)."""

    text: str
    occurrence: int | None = None
    defect: str | None = None


@dataclass(frozen=True)
class Q:
    qid: str
    question: str
    answers: tuple[Ans, ...]


@dataclass(frozen=True)
class Para:
    context: str
    qas: tuple[Q, ...]


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[Para, ...]


@dataclass
class DataFile:
    path: str  # relative to the output folder
    description: str
    articles: tuple[Article, ...]
    pivot: str | None = None  # for parallel translations: the pivot file they align with
    notes: list[str] = field(default_factory=list)


def q(qid: str, question: str, *answers: Ans | str) -> Q:
    return Q(qid, question, tuple(a if isinstance(a, Ans) else Ans(a) for a in answers))


def hex_id(seed: str, length: int) -> str:
    """A deterministic hex id, like MLQA's (40 chars) or SQuAD/XQuAD's (24 chars)."""
    return hashlib.sha1(seed.encode("utf-8")).hexdigest()[:length]


def mlqa_id(name: str, n: int) -> str:
    return hex_id(f"xltt-plugin fixture {name} {n}", 40)


def xquad_id(lang: str, n: int) -> str:
    return hex_id(f"xltt-plugin fixture xquad.{lang} {n}", 24)


# ----------------------------------------------------------------------------------------------
# English pivot (parallel/squad_en.json)
# ----------------------------------------------------------------------------------------------

APOLLO_EN = (
    "Apollo 11 was the spaceflight that carried the first people to walk on the Moon. It was "
    "the fifth crewed mission of NASA's Apollo program, an effort that President John F. "
    "Kennedy had set in motion in 1961, when he asked Congress to commit the United States to "
    "landing a man on the Moon and returning him safely to Earth before the decade was out. "
    "Reaching that goal took eight years of work by several hundred thousand engineers, "
    "technicians and scientists, and it cost the lives of three astronauts in the Apollo 1 "
    "fire of 1967. The crew chosen for the first landing attempt was made up of three veterans "
    "of the earlier Gemini program. Neil Armstrong, a former naval aviator and test pilot, was "
    'the mission commander. Edwin "Buzz" Aldrin, who had written a doctoral thesis on orbital '
    "rendezvous, was the lunar module pilot, and Michael Collins was the command module pilot. "
    "The spacecraft had two crewed parts: the command module, named Columbia, which would stay "
    "in orbit around the Moon, and the lunar module, named Eagle, which would carry two of the "
    "men down to the surface. Apollo 11 lifted off from Kennedy Space Center in Florida on July "
    "16, 1969, on top of a Saturn V rocket, the most powerful rocket that had ever flown. About "
    "twelve minutes after launch the spacecraft was in orbit around Earth, and after one and a "
    "half orbits the third stage fired again to send it toward the Moon. The journey took three "
    "days. On July 19 the spacecraft passed behind the Moon and fired its engine to enter lunar "
    "orbit. The next day Armstrong and Aldrin crawled through the connecting tunnel into Eagle, "
    "undocked from Columbia and began their descent. The final minutes were tense. The guidance "
    "computer raised a series of program alarms, and as the surface came into view Armstrong "
    "saw that the automatic system was taking them toward a crater surrounded by large "
    "boulders. He took partial manual control and flew the lander over the rocks, searching for "
    "a smooth place to set down, while Aldrin called out altitude and speed. Eagle touched down "
    "in the Sea of Tranquility with less than a minute of descent fuel to spare, and Armstrong "
    'reported: "Houston, Tranquility Base here. The Eagle has landed." A few hours later '
    "Armstrong climbed down the ladder and became the first person to step onto the lunar "
    'surface, saying: "That\'s one small step for man, one giant leap for mankind." Aldrin '
    "followed him about twenty minutes later. Television cameras sent pictures of the moonwalk "
    "back to Earth, where hundreds of millions of people watched it live. The two men spent "
    "about two and a half hours outside the lander. They planted an American flag, set up a "
    "seismometer and a laser reflector that scientists still use to measure the distance "
    "between Earth and the Moon, and gathered 21.5 kilograms of rocks and soil. They also left "
    'behind a plaque with the words: "Here men from the planet Earth first set foot upon the '
    'Moon, July 1969 A.D. We came in peace for all mankind." Meanwhile Collins orbited alone in '
    "Columbia, out of radio contact with Earth each time he passed over the far side of the "
    "Moon. After about twenty-one and a half hours on the surface, the upper stage of Eagle "
    "lifted off and rejoined Columbia in lunar orbit. Once the moonwalkers and their samples "
    "were on board, the crew released the lander and fired the main engine to head home. On "
    "July 24, 1969, the command module splashed down in the Pacific Ocean, and the astronauts "
    "were picked up by the aircraft carrier USS Hornet. Because no one could yet rule out germs "
    "from the Moon, the crew spent the next three weeks in quarantine. When they were released, "
    "they were honoured with parades in New York, Chicago and Los Angeles and then went on a "
    "world tour. Six more Apollo missions followed, five of which landed successfully, and the "
    "last astronauts left the Moon in December 1972."
)

FUJI_EN = (
    "Mount Fuji is an active stratovolcano on the island of Honshu and, at 3,776 metres, the "
    "highest mountain in Japan. It stands about 100 kilometres southwest of Tokyo, and on clear "
    "winter days its snow-capped, nearly symmetrical cone can be seen from the city. The "
    "volcano last erupted in 1707, during the Edo period, when the Hōei eruption spread ash as "
    "far as Edo. For centuries the mountain has been a sacred site and a subject for artists, "
    "most famously in Katsushika Hokusai's series of woodblock prints Thirty-six Views of Mount "
    "Fuji. In 2013 it was added to the UNESCO World Heritage List as a cultural site. Most "
    "climbers make the ascent during the official climbing season, which runs from early July "
    "to early September, and many start at night so that they can watch the sunrise from the "
    "summit."
)

DANUBE_EN = (
    "The Danube is the second-longest river in Europe, after the Volga. It rises in the Black "
    "Forest in Germany, where two small streams, the Brigach and the Breg, meet at the town of "
    "Donaueschingen, and flows for about 2,850 kilometres, generally eastward, before emptying "
    "into the Black Sea through a wide delta in Romania and Ukraine. Along the way it passes "
    "through or along the borders of ten countries, more than any other river in the world, "
    "and through four capital cities: Vienna, Bratislava, Budapest and Belgrade. For centuries "
    "the river formed a frontier of the Roman Empire, and today it is an important shipping "
    "route, linked to the Rhine by way of the Main–Danube Canal."
)

CURIE_EN = (
    "Marie Curie was a physicist and chemist who carried out pioneering research on "
    "radioactivity. Born Maria Skłodowska in Warsaw in 1867, she moved to Paris in 1891 to "
    "study at the Sorbonne, where she met the physicist Pierre Curie, whom she married in 1895. "
    "Together they discovered two new elements: polonium, which she named after her native "
    "Poland, and radium. In 1903 she shared the Nobel Prize in Physics with Pierre Curie and "
    "Henri Becquerel, becoming the first woman to receive a Nobel Prize. In 1911 she was "
    "awarded a second Nobel Prize, this time in chemistry, and she remains the only person to "
    "have won Nobel Prizes in two different sciences."
)

SQUAD_EN = DataFile(
    path="parallel/squad_en.json",
    description="English pivot of the parallel training corpus (SQuAD v1.1 layout).",
    articles=(
        Article(
            "Apollo 11",
            (
                Para(
                    APOLLO_EN,
                    (
                        q("sq-001", "Who was the commander of Apollo 11?", "Neil Armstrong"),
                        q("sq-002", "On what date did Apollo 11 lift off?", "July 16, 1969"),
                        q(
                            "sq-003",
                            "What was the lunar module of Apollo 11 called?",
                            Ans("Eagle", occurrence=0),
                        ),
                        q(
                            "sq-004",
                            "Where on the Moon did the lunar module touch down?",
                            "Sea of Tranquility",
                        ),
                        q(
                            "sq-005",
                            "How much rock and soil did the astronauts gather on the Moon?",
                            "21.5 kilograms",
                        ),
                        q(
                            "sq-006",
                            "Which ship picked up the astronauts after splashdown?",
                            "USS Hornet",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "Mount Fuji",
            (
                Para(
                    FUJI_EN,
                    (
                        q("sq-007", "How high is Mount Fuji?", "3,776 metres"),
                        q("sq-008", "In what year did Mount Fuji last erupt?", "1707"),
                        q(
                            "sq-009",
                            "Which artist made a famous series of prints of the mountain?",
                            "Katsushika Hokusai",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "Danube",
            (
                Para(
                    DANUBE_EN,
                    (
                        q("sq-010", "Into which sea does the Danube flow?", "Black Sea"),
                        q("sq-011", "How long is the Danube?", "2,850 kilometres"),
                    ),
                ),
            ),
        ),
        Article(
            "Marie Curie",
            (
                Para(
                    CURIE_EN,
                    (
                        q("sq-012", "In which city was Marie Curie born?", "Warsaw"),
                        q(
                            "sq-013",
                            "In what year did Marie Curie receive the Nobel Prize in Chemistry?",
                            "1911",
                        ),
                    ),
                ),
            ),
        ),
    ),
    notes=[
        f"`sq-001`-`sq-006` share one long passage (Apollo 11, {len(APOLLO_EN.split())} "
        "words) that needs several 384-token windows; `sq-006` is answered in its last "
        "quarter (the ja and ko translations of it are shorter).",
        "`sq-003` (`Eagle`) occurs several times in its context; the first occurrence is "
        "the gold one.",
    ],
)

# ----------------------------------------------------------------------------------------------
# Japanese translation (parallel/squad_ja.json)
# ----------------------------------------------------------------------------------------------

APOLLO_JA = (
    "アポロ11号は、人類を初めて月面に降り立たせた宇宙飛行である。NASAのアポロ計画における5回目の"
    "有人飛行で、この計画は1961年、ジョン・F・ケネディ大統領が、1960年代のうちに人間を月に着陸"
    "させ、無事に地球へ帰還させるという目標を掲げたことから始まった。乗組員はいずれもジェミニ計画で"
    "宇宙飛行を経験した3人で、元テストパイロットのニール・アームストロングが船長、"
    "バズ・オルドリンが月着陸船操縦士、マイケル・コリンズが司令船操縦士を務めた。宇宙船は、月の"
    "周回軌道にとどまる司令船「コロンビア」と、2人を月面へ運ぶ月着陸船「イーグル」から成っていた。"
    "アポロ11号は1969年7月16日、サターンVロケットでフロリダ州のケネディ宇宙センターから打ち上げ"
    "られ、3日後に月周回軌道に入った。翌日、アームストロングとオルドリンはイーグルに乗り移って降下を"
    "開始した。最後の数分間は緊迫したものだった。誘導コンピューターが警報を繰り返し発し、自動操縦が"
    "大きな岩の散らばるクレーターへ向かっていたため、アームストロングは手動操縦に切り替えて平らな"
    "場所を探した。イーグルは燃料の残りが1分足らずという状態で静かの海に着陸し、アームストロングは"
    "「ヒューストン、こちら静かの基地。イーグルは着陸した」と報告した。数時間後、アームストロングは"
    "はしごを降りて月面に立った最初の人間となり、「これは一人の人間にとっては小さな一歩だが、人類に"
    "とっては偉大な飛躍である」と述べた。2人は約2時間半にわたって船外で活動し、星条旗を立て、地震計"
    "とレーザー反射板を設置し、21.5キログラムの岩石や土を採取した。その間、コリンズは1人で"
    "コロンビアに残って月を周回していた。月面に約21時間半滞在した後、イーグルの上昇段が離陸して"
    "司令船とドッキングし、乗組員は地球への帰路についた。1969年7月24日、司令船は太平洋に着水し、"
    "3人は空母ホーネットに収容された。月の病原体が持ち込まれる可能性を否定できなかったため、乗組員は"
    "その後3週間隔離された。"
)

FUJI_JA = (
    "富士山は本州にある活火山で、標高3,776メートルの日本最高峰である。東京から南西へ約100キロ"
    "メートルの位置にあり、空気の澄んだ冬の日には、雪をかぶったほぼ左右対称の円錐形の姿を都心から"
    "も望むことができる。最後に噴火したのは江戸時代の1707年で、この宝永噴火では江戸にまで火山灰が"
    "降った。富士山は古くから信仰の対象とされ、芸術の題材にもなってきた。中でも有名なのが葛飾北斎の"
    "浮世絵の連作『富嶽三十六景』である。2013年には文化遺産としてユネスコの世界遺産に登録された。"
    "登山は7月上旬から9月上旬までの公式な登山シーズンに行われるのが一般的で、山頂でご来光を見るために"
    "夜のうちに登り始める人も多い。"
)

DANUBE_JA = (
    "ドナウ川は、ヴォルガ川に次いでヨーロッパで2番目に長い川である。ドイツのシュヴァルツヴァルト"
    "（黒い森）で、ブリガッハ川とブレーク川という2本の小川がドナウエッシンゲンの町で合流して始まり、"
    "おおむね東へ約2,850キロメートル流れたのち、ルーマニアとウクライナにまたがる広大なデルタを経て"
    "黒海に注ぐ。その流れは10か国の領土や国境を通っており、これは世界のどの川よりも多い。また、"
    "ウィーン、ブラチスラバ、ブダペスト、ベオグラードという4つの首都を流れている。何世紀にもわたって"
    "ローマ帝国の国境をなしていたこの川は、現在ではマイン・ドナウ運河によってライン川とつながる重要な"
    "水運路となっている。"
)

CURIE_JA = (
    "マリー・キュリーは、放射能の先駆的な研究で知られる物理学者・化学者である。1867年にワルシャワで"
    "マリア・スクウォドフスカとして生まれ、1891年、ソルボンヌで学ぶためにパリへ移った。そこで物理"
    "学者のピエール・キュリーと出会い、1895年に結婚した。2人は共同で2つの新元素を発見した。祖国"
    "ポーランドにちなんで名付けたポロニウムと、ラジウムである。1903年にはピエール・キュリー、アンリ・"
    "ベクレルとともにノーベル物理学賞を受賞し、女性として初めてのノーベル賞受賞者となった。1911年には"
    "2度目となるノーベル化学賞を受賞しており、異なる2つの科学分野でノーベル賞を受けた人物は今も彼女"
    "ただ1人である。"
)

SQUAD_JA = DataFile(
    path="parallel/squad_ja.json",
    description=(
        "Japanese translation of the pivot, aligned by question id; the Apollo 11 passage is "
        "translated in shorter form."
    ),
    pivot="parallel/squad_en.json",
    articles=(
        Article(
            "アポロ11号",
            (
                Para(
                    APOLLO_JA,
                    (
                        q(
                            "sq-001",
                            "アポロ11号の船長を務めたのは誰ですか？",
                            "ニール・アームストロング",
                        ),
                        q("sq-002", "アポロ11号が打ち上げられたのはいつですか？", "1969年7月16日"),
                        q(
                            "sq-003",
                            "アポロ11号の月着陸船は何と呼ばれていましたか？",
                            Ans("イーグル", occurrence=0),
                        ),
                        q("sq-004", "月着陸船は月面のどこに着陸しましたか？", "静かの海"),
                        q(
                            "sq-005",
                            "宇宙飛行士たちは月面でどれだけの岩石や土を採取しましたか？",
                            "21.5キログラム",
                        ),
                        q(
                            "sq-006",
                            "着水後に宇宙飛行士を収容したのはどの船ですか？",
                            "空母ホーネット",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "富士山",
            (
                Para(
                    FUJI_JA,
                    (
                        q(
                            "sq-007",
                            "富士山の標高はどれくらいですか？",
                            Ans("3776メートル", defect=NOT_IN_CONTEXT),
                        ),
                        q("sq-008", "富士山が最後に噴火したのは何年ですか？", "1707年"),
                        q(
                            "sq-009",
                            "富士山を描いた有名な連作版画を手がけた絵師は誰ですか？",
                            "葛飾北斎",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "ドナウ川",
            (
                Para(
                    DANUBE_JA,
                    (
                        q("sq-010", "ドナウ川はどの海に注いでいますか？"),
                        q("sq-011", "ドナウ川の長さはどれくらいですか？", "2,850キロメートル"),
                    ),
                ),
            ),
        ),
        Article(
            "マリー・キュリー",
            (
                Para(
                    CURIE_JA,
                    (
                        q("sq-012", "マリー・キュリーが生まれた都市はどこですか？", "ワルシャワ"),
                        q(
                            "sq-013",
                            "マリー・キュリーがノーベル化学賞を受賞したのは何年ですか？",
                            "1911年",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------------------------
# Korean translation (parallel/squad_ko.json)
# ----------------------------------------------------------------------------------------------

APOLLO_KO = (
    "아폴로 11호는 인류를 처음으로 달에 착륙시킨 우주 비행이다. 미국 항공우주국(NASA)의 아폴로 "
    "계획에서 다섯 번째 유인 비행이었으며, 이 계획은 1961년 존 F. 케네디 대통령이 1960년대가 "
    "끝나기 전에 사람을 달에 착륙시키고 무사히 지구로 귀환시키겠다는 목표를 제시하면서 "
    "시작되었다. 승무원은 모두 제미니 계획에서 우주 비행을 경험한 세 사람으로, 시험 비행 조종사 "
    "출신인 닐 암스트롱이 선장을, 버즈 올드린이 달 착륙선 조종사를, 마이클 콜린스가 사령선 "
    "조종사를 맡았다. 우주선은 달 궤도에 남는 사령선 '컬럼비아'와 두 사람을 달 표면으로 내려보낼 "
    "달 착륙선 '이글'로 이루어져 있었다. 아폴로 11호는 1969년 7월 16일 새턴 V 로켓에 실려 "
    "플로리다주 케네디 우주 센터에서 발사되었고, 사흘 뒤 달 궤도에 진입했다. 다음 날 암스트롱과 "
    "올드린은 이글로 옮겨 타고 하강을 시작했다. 마지막 몇 분은 긴박했다. 유도 컴퓨터가 잇따라 "
    "경보를 울렸고, 자동 조종 장치가 큰 바위가 흩어진 분화구 쪽으로 향하고 있었기 때문에 "
    "암스트롱은 수동 조종으로 전환해 평평한 착륙 지점을 찾았다. 이글은 연료가 1분도 채 남지 않은 "
    '상태에서 고요의 바다에 착륙했고, 암스트롱은 "휴스턴, 여기는 고요의 기지. 이글이 '
    '착륙했다"라고 보고했다. 몇 시간 뒤 암스트롱은 사다리를 내려가 달 표면에 발을 디딘 최초의 '
    '인간이 되었으며, "이것은 한 사람에게는 작은 발걸음이지만 인류에게는 거대한 도약이다"라고 '
    "말했다. 두 사람은 약 두 시간 반 동안 선외 활동을 하면서 성조기를 세우고 지진계와 레이저 "
    "반사경을 설치했으며, 21.5킬로그램의 암석과 흙을 채취했다. 그동안 콜린스는 홀로 컬럼비아에 "
    "남아 달 궤도를 돌았다. 달 표면에 약 21시간 30분 머문 뒤 이글의 상승단이 이륙해 사령선과 "
    "도킹했고, 승무원들은 지구로 향했다. 1969년 7월 24일 사령선은 태평양에 착수했으며, 세 사람은 "
    "항공모함 호넷에 의해 구조되었다. 달에서 병원체가 옮겨 왔을 가능성을 배제할 수 없었기 때문에 "
    "승무원들은 이후 3주 동안 격리되었다."
)

FUJI_KO = (
    "후지산은 혼슈에 있는 활화산으로, 높이가 3,776미터에 이르는 일본에서 가장 높은 산이다. "
    "도쿄에서 남서쪽으로 약 100킬로미터 떨어져 있으며, 공기가 맑은 겨울날에는 눈 덮인 거의 "
    "좌우대칭의 원뿔 모양을 도쿄 시내에서도 볼 수 있다. 마지막으로 분화한 것은 에도 시대인 "
    "1707년으로, 이 호에이 분화 때 에도까지 화산재가 날아왔다. 후지산은 오래전부터 신앙의 "
    "대상이자 예술의 소재였으며, 그중에서도 가쓰시카 호쿠사이의 목판화 연작 《후가쿠 36경》이 "
    "특히 유명하다. 2013년에는 문화유산으로 유네스코 세계유산에 등재되었다. 등산은 주로 7월 "
    "초부터 9월 초까지의 공식 등산 시즌에 이루어지며, 정상에서 해돋이를 보기 위해 밤에 오르기 "
    "시작하는 사람도 많다."
)

DANUBE_KO = (
    "도나우강은 볼가강에 이어 유럽에서 두 번째로 긴 강이다. 독일 슈바르츠발트에서 브리가흐강과 "
    "브레크강이라는 두 작은 하천이 도나우에싱겐에서 합류하며 시작되고, 대체로 동쪽으로 약 "
    "2,850킬로미터를 흐른 뒤 루마니아와 우크라이나에 걸친 넓은 삼각주를 지나 흑해로 흘러든다. 이 "
    "강은 10개 나라의 영토나 국경을 지나는데, 이는 세계의 어느 강보다도 많은 수이다. 또한 빈, "
    "브라티슬라바, 부다페스트, 베오그라드 등 네 나라의 수도를 지난다. 수백 년 동안 로마 제국의 "
    "국경을 이루었던 이 강은 오늘날 마인-도나우 운하를 통해 라인강과 연결되는 중요한 수로이다."
)

CURIE_KO = (
    "마리 퀴리는 방사능에 관한 선구적인 연구로 알려진 물리학자이자 화학자이다. 1867년 바르샤바에서 "
    "마리아 스크워도프스카라는 이름으로 태어났으며, 1891년 소르본에서 공부하기 위해 파리로 "
    "건너갔다. 그곳에서 물리학자 피에르 퀴리를 만나 1895년에 결혼했다. 두 사람은 함께 두 가지 "
    "새로운 원소를 발견했는데, 하나는 그녀가 조국 폴란드의 이름을 따서 지은 폴로늄이고 다른 하나는 "
    "라듐이다. 1903년 피에르 퀴리, 앙리 베크렐과 함께 노벨 물리학상을 받아 여성 최초의 노벨상 "
    "수상자가 되었다. 1911년에는 노벨 화학상을 받으며 두 번째 노벨상을 수상했고, 지금까지도 서로 "
    "다른 두 과학 분야에서 노벨상을 받은 사람은 그녀가 유일하다."
)

SQUAD_KO = DataFile(
    path="parallel/squad_ko.json",
    description=(
        "Korean translation of the pivot, aligned by question id; the Apollo 11 passage is "
        "translated in shorter form."
    ),
    pivot="parallel/squad_en.json",
    articles=(
        Article(
            "아폴로 11호",
            (
                Para(
                    APOLLO_KO,
                    (
                        q("sq-001", "아폴로 11호의 선장을 맡은 사람은 누구인가?", "닐 암스트롱"),
                        q("sq-002", "아폴로 11호는 언제 발사되었는가?", "1969년 7월 16일"),
                        q(
                            "sq-003",
                            "아폴로 11호의 달 착륙선 이름은 무엇인가?",
                            Ans("이글", occurrence=0),
                        ),
                        q(
                            "sq-004",
                            "달 착륙선은 달의 어느 지역에 착륙했는가?",
                            Ans("고요의 바다", defect=START_OFF_BY_3),
                        ),
                        q(
                            "sq-005",
                            "우주비행사들은 달에서 암석과 흙을 얼마나 채취했는가?",
                            "21.5킬로그램",
                        ),
                        q(
                            "sq-006",
                            "착수 후 우주비행사들을 구조한 배는 무엇인가?",
                            "항공모함 호넷",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "후지산",
            (
                Para(
                    FUJI_KO,
                    (
                        q("sq-007", "후지산의 높이는 얼마인가?", "3,776미터"),
                        q("sq-008", "후지산이 마지막으로 분화한 해는 언제인가?", "1707년"),
                        q(
                            "sq-009",
                            "후지산을 그린 유명한 판화 연작을 만든 화가는 누구인가?",
                            "가쓰시카 호쿠사이",
                        ),
                    ),
                ),
            ),
        ),
        Article(
            "도나우강",
            (
                Para(
                    DANUBE_KO,
                    (
                        q("sq-010", "도나우강은 어느 바다로 흘러드는가?", "흑해"),
                        q("sq-011", "도나우강의 길이는 얼마인가?", "2,850킬로미터"),
                    ),
                ),
            ),
        ),
        Article(
            "마리 퀴리",
            (
                Para(
                    CURIE_KO,
                    # sq-013 deliberately left out (see EXPECTED_DEFECTS).
                    (q("sq-012", "마리 퀴리가 태어난 도시는 어디인가?", "바르샤바"),),
                ),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------------------------
# CMRC2018-like Simplified Chinese (cmrc2018/cmrc_zh.json)
# ----------------------------------------------------------------------------------------------

GUGONG_ZH = (
    "北京故宫是中国明清两代的皇家宫殿，旧称紫禁城，位于北京中轴线的中心。故宫于明朝永乐四年"
    "（1406年）开始营建，到1420年基本建成，此后近五百年间，先后有二十四位皇帝在这里居住和处理"
    "政务。宫城呈长方形，南北长961米，东西宽753米，四周环绕着高约10米的城墙和宽52米的护城河。"
    "1925年，故宫博物院在此成立，宫中收藏的大量文物开始向公众开放。1987年，故宫被联合国教科文"
    "组织列入世界遗产名录，是世界上现存规模最大、保存最完整的木质结构古建筑群之一。"
)

CHANGJIANG_ZH = (
    "长江是亚洲第一长河，也是世界第三长河，全长约6300公里，仅次于非洲的尼罗河和南美洲的亚马孙河。"
    "长江发源于青藏高原唐古拉山脉的主峰各拉丹冬雪山，干流自西向东流经青海、西藏、四川、云南、重庆、"
    "湖北、湖南、江西、安徽、江苏和上海等十一个省级行政区，最后在上海注入东海。长江流域面积约180万"
    "平方公里，约占中国陆地总面积的五分之一。位于湖北省宜昌市的三峡大坝是世界上装机容量最大的水电站，"
    "其坝体工程于2006年全面完工。"
)

CMRC_ZH = DataFile(
    path="cmrc2018/cmrc_zh.json",
    description="CMRC2018-like Simplified Chinese set (SQuAD layout).",
    articles=(
        Article(
            "故宫",
            (
                Para(
                    GUGONG_ZH,
                    (
                        q("cmrc-001", "故宫是在哪一年基本建成的？", "1420年"),
                        q("cmrc-002", "先后有多少位皇帝在故宫居住和处理政务？", "二十四位"),
                        q("cmrc-003", "故宫博物院成立于哪一年？", "1925年"),
                    ),
                ),
            ),
        ),
        Article(
            "长江",
            (
                Para(
                    CHANGJIANG_ZH,
                    (
                        q("cmrc-004", "长江最后注入哪一片海？", "东海"),
                        q("cmrc-005", "长江发源于哪座雪山？", "各拉丹冬雪山"),
                        q("cmrc-006", "三峡大坝位于哪里？", "湖北省宜昌市"),
                    ),
                ),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------------------------
# DRCD-like Traditional Chinese (drcd/drcd_zh.json)
# ----------------------------------------------------------------------------------------------

TAIPEI101_ZH = (
    "臺北101是位於臺灣臺北市信義區的摩天大樓，由建築師李祖原設計，地上共有101層，地下5層。大樓於"
    "2004年12月31日正式落成啟用，總高度為508公尺，在2004年至2010年間曾是世界最高的建築物，直到"
    "杜拜的哈里發塔完工後才被超越。大樓的外觀仿照竹節的造型，每八層為一節，象徵節節高升。為了減輕"
    "颱風與地震帶來的搖晃，大樓在87樓至92樓之間懸掛了一座重達660公噸的調諧質量阻尼器，這顆巨大的"
    "金色鋼球也成為熱門的參觀景點。每年跨年夜，臺北101都會施放煙火，吸引大批民眾前往觀賞。"
)

DRCD_ZH = DataFile(
    path="drcd/drcd_zh.json",
    description="DRCD-like Traditional Chinese set (SQuAD layout).",
    articles=(
        Article(
            "臺北101",
            (
                Para(
                    TAIPEI101_ZH,
                    (
                        q("drcd-001", "臺北101的總高度是多少？", "508公尺"),
                        q("drcd-002", "臺北101是由哪位建築師設計的？", "李祖原"),
                        q("drcd-003", "臺北101於哪一天正式落成啟用？", "2004年12月31日"),
                        q("drcd-004", "大樓內的調諧質量阻尼器有多重？", "660公噸"),
                    ),
                ),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------------------------
# MLQA-style files (mlqa/)
# ----------------------------------------------------------------------------------------------

TAJ_HI = (
    "ताज महल भारत के आगरा शहर में यमुना नदी के दक्षिणी तट पर स्थित सफ़ेद संगमरमर का एक मकबरा है। "
    "इसे मुग़ल बादशाह शाहजहाँ ने अपनी प्रिय पत्नी मुमताज़ महल की याद में बनवाया था, जिनकी मृत्यु "
    "1631 में हुई थी। मकबरे का निर्माण 1632 में शुरू हुआ और लगभग 1643 तक मुख्य मकबरा बनकर तैयार "
    "हो गया, जबकि पूरे परिसर का काम इसके लगभग दस साल बाद पूरा हुआ। इस काम में हज़ारों कारीगरों और "
    "मज़दूरों ने हिस्सा लिया। ताज महल के चारों कोनों पर चार ऊँची मीनारें हैं और इसके सामने एक बड़ा "
    "चारबाग़ उद्यान है। 1983 में यूनेस्को ने इसे विश्व धरोहर स्थल घोषित किया। आज यह भारत के सबसे "
    "प्रसिद्ध पर्यटन स्थलों में से एक है और हर साल लाखों लोग इसे देखने आते हैं।"
)

MLQA_HI_NAME = "test-context-hi-question-hi"
MLQA_HI = DataFile(
    path=f"mlqa/{MLQA_HI_NAME}.json",
    description="MLQA-style test file, Hindi context and Hindi questions.",
    articles=(
        Article(
            "ताज महल",
            (
                Para(
                    TAJ_HI,
                    (
                        q(mlqa_id(MLQA_HI_NAME, 1), "ताज महल किस शहर में स्थित है?", "आगरा"),
                        q(mlqa_id(MLQA_HI_NAME, 2), "ताज महल किस नदी के तट पर बना है?", "यमुना नदी"),
                        q(
                            mlqa_id(MLQA_HI_NAME, 3),
                            "शाहजहाँ ने ताज महल किसकी याद में बनवाया था?",
                            "मुमताज़ महल",
                        ),
                        q(mlqa_id(MLQA_HI_NAME, 4), "ताज महल का निर्माण किस वर्ष शुरू हुआ?", "1632"),
                        q(
                            mlqa_id(MLQA_HI_NAME, 5),
                            "यूनेस्को ने ताज महल को विश्व धरोहर स्थल कब घोषित किया?",
                            "1983",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

REEF_EN = (
    "The Great Barrier Reef is the largest coral reef system in the world. It lies in the Coral "
    "Sea, off the coast of Queensland in northeastern Australia, and stretches for more than "
    "2,300 kilometres. The reef is made up of nearly 3,000 individual reefs and about 900 "
    "islands, and it is so large that it can be seen from space. It is built by billions of "
    "tiny organisms called coral polyps and supports a great variety of life, including more "
    "than 1,500 species of fish, as well as turtles, dolphins and sharks. In 1981 it was named "
    "a World Heritage Site. Much of the reef is protected by the Great Barrier Reef Marine "
    "Park, but rising sea temperatures have caused several mass bleaching events in recent "
    "decades."
)

MLQA_EN_NAME = "dev-context-en-question-en"
MLQA_EN = DataFile(
    path=f"mlqa/{MLQA_EN_NAME}.json",
    description="MLQA-style dev file, English context and English questions.",
    articles=(
        Article(
            "Great Barrier Reef",
            (
                Para(
                    REEF_EN,
                    (
                        q(
                            mlqa_id(MLQA_EN_NAME, 1),
                            "Off the coast of which Australian state does the Great Barrier "
                            "Reef lie?",
                            "Queensland",
                        ),
                        q(
                            mlqa_id(MLQA_EN_NAME, 2),
                            "How long is the Great Barrier Reef?",
                            "more than 2,300 kilometres",
                        ),
                        q(
                            mlqa_id(MLQA_EN_NAME, 3),
                            "What organisms build the reef?",
                            "coral polyps",
                        ),
                        q(
                            mlqa_id(MLQA_EN_NAME, 4),
                            "When was the reef named a World Heritage Site?",
                            "1981",
                        ),
                        q(
                            mlqa_id(MLQA_EN_NAME, 5),
                            "How many species of fish live on the reef?",
                            "more than 1,500",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

TOR_DE = (
    "Das Brandenburger Tor ist ein frühklassizistisches Stadttor in Berlin und gilt als eines "
    "der bekanntesten Wahrzeichen Deutschlands. Es wurde in den Jahren 1788 bis 1791 im Auftrag "
    "des preußischen Königs Friedrich Wilhelm II. nach Plänen des Architekten Carl Gotthard "
    "Langhans errichtet. Das Tor steht am Pariser Platz am westlichen Ende der Straße Unter den "
    "Linden. Auf dem Tor thront die Quadriga, ein von vier Pferden gezogener Wagen mit der "
    "Siegesgöttin Victoria, die der Bildhauer Johann Gottfried Schadow entwarf. Während der "
    "Teilung Berlins lag das Tor unmittelbar an der Mauer und war für die Öffentlichkeit nicht "
    "zugänglich. Seit dem Fall der Mauer im Jahr 1989 gilt es als Symbol der deutschen Einheit."
)

MLQA_DE_EN_NAME = "test-context-de-question-en"
MLQA_DE_EN = DataFile(
    path=f"mlqa/{MLQA_DE_EN_NAME}.json",
    description="MLQA-style cross-language test file: German context, English questions.",
    articles=(
        Article(
            "Brandenburger Tor",
            (
                Para(
                    TOR_DE,
                    (
                        q(
                            mlqa_id(MLQA_DE_EN_NAME, 1),
                            "Which architect designed the Brandenburg Gate?",
                            "Carl Gotthard Langhans",
                        ),
                        q(
                            mlqa_id(MLQA_DE_EN_NAME, 2),
                            "In what year was the construction of the gate completed?",
                            "1791",
                        ),
                        q(
                            mlqa_id(MLQA_DE_EN_NAME, 3),
                            "On which square does the Brandenburg Gate stand?",
                            "Pariser Platz",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------------------------
# XQuAD-style files (xquad/)
# ----------------------------------------------------------------------------------------------

NILE_AR = (
    "نهر النيل هو أطول نهر في أفريقيا، ويُعدّ من أطول أنهار العالم، إذ يبلغ طوله نحو 6650 كيلومترًا. "
    "ويتكوّن النيل من رافدين رئيسيين هما النيل الأبيض الذي ينبع من منطقة البحيرات العظمى في وسط "
    "أفريقيا، والنيل الأزرق الذي ينبع من بحيرة تانا في إثيوبيا. ويلتقي الرافدان في مدينة الخرطوم "
    "عاصمة السودان، ثم يواصل النهر جريانه شمالًا عبر مصر حتى يصبّ في البحر الأبيض المتوسط. وقد قامت "
    "على ضفافه حضارة مصر القديمة، إذ اعتمد المصريون على فيضانه السنوي في ري أراضيهم الزراعية. وفي "
    "عام 1970 اكتمل بناء السد العالي في أسوان، فأصبح بالإمكان التحكم في مياه الفيضان "
    "وتوليد الكهرباء."
)

XQUAD_AR = DataFile(
    path="xquad/xquad.ar.json",
    description="XQuAD-style file, Arabic.",
    articles=(
        Article(
            "نهر النيل",
            (
                Para(
                    NILE_AR,
                    (
                        q(
                            xquad_id("ar", 1),
                            "في أي مدينة يلتقي النيل الأبيض والنيل الأزرق؟",
                            "الخرطوم",
                        ),
                        q(xquad_id("ar", 2), "أين يصبّ نهر النيل؟", "البحر الأبيض المتوسط"),
                        q(xquad_id("ar", 3), "من أي بحيرة ينبع النيل الأزرق؟", "بحيرة تانا"),
                        q(xquad_id("ar", 4), "في أي عام اكتمل بناء السد العالي؟", "1970"),
                    ),
                ),
            ),
        ),
    ),
)

BANGKOK_TH = (
    "กรุงเทพมหานครเป็นเมืองหลวงและเมืองที่มีประชากรมากที่สุดของประเทศไทย ตั้งอยู่บนที่ราบลุ่มริม"
    "แม่น้ำเจ้าพระยาใกล้กับอ่าวไทย พระบาทสมเด็จพระพุทธยอดฟ้าจุฬาโลกมหาราชทรงสถาปนากรุงรัตนโกสินทร์"
    "ขึ้นเป็นราชธานีแห่งใหม่เมื่อ พ.ศ. 2325 แทนกรุงธนบุรีซึ่งตั้งอยู่อีกฝั่งหนึ่งของแม่น้ำ "
    "ชื่อเต็มของกรุงเทพมหานครได้รับการบันทึกว่าเป็นชื่อเมืองที่ยาวที่สุดในโลก ปัจจุบันกรุงเทพมหานครเป็น"
    "ศูนย์กลางทางการเมือง เศรษฐกิจ และวัฒนธรรมของประเทศ และเป็นที่ตั้งของสถานที่สำคัญมากมาย เช่น "
    "พระบรมมหาราชวังและวัดพระศรีรัตนศาสดาราม หรือวัดพระแก้ว"
)

XQUAD_TH = DataFile(
    path="xquad/xquad.th.json",
    description="XQuAD-style file, Thai (no spaces between words).",
    articles=(
        Article(
            "กรุงเทพมหานคร",
            (
                Para(
                    BANGKOK_TH,
                    (
                        q(xquad_id("th", 1), "กรุงเทพมหานครตั้งอยู่ริมแม่น้ำสายใด", "แม่น้ำเจ้าพระยา"),
                        q(
                            xquad_id("th", 2),
                            "กรุงรัตนโกสินทร์ได้รับการสถาปนาเป็นราชธานีเมื่อใด",
                            "พ.ศ. 2325",
                        ),
                        q(
                            xquad_id("th", 3),
                            "พระมหากษัตริย์พระองค์ใดทรงสถาปนากรุงรัตนโกสินทร์",
                            "พระบาทสมเด็จพระพุทธยอดฟ้าจุฬาโลกมหาราช",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

ALL_FILES: tuple[DataFile, ...] = (
    SQUAD_EN,
    SQUAD_JA,
    SQUAD_KO,
    CMRC_ZH,
    DRCD_ZH,
    MLQA_EN,
    MLQA_HI,
    MLQA_DE_EN,
    XQUAD_AR,
    XQUAD_TH,
)

# ----------------------------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def locate(context: str, text: str, occurrence: int | None, where: str) -> int:
    """
    The character offset of `text` in `context`: its only occurrence, or the `occurrence`-th
    (0-based) when it occurs more than once (then `occurrence` must be given).
    """
    starts = [m.start() for m in re.finditer(re.escape(text), context)]
    if not starts:
        raise ValueError(f"{where}: answer {text!r} not found in the context")
    if occurrence is None:
        if len(starts) > 1:
            raise ValueError(
                f"{where}: answer {text!r} occurs {len(starts)} times in the context; "
                "give its occurrence index"
            )
        return starts[0]
    if not 0 <= occurrence < len(starts):
        raise ValueError(
            f"{where}: answer {text!r} occurs {len(starts)} times; occurrence {occurrence} "
            "is out of range"
        )
    return starts[occurrence]


def build_answer(context: str, answer: Ans, where: str) -> dict[str, Any]:
    text = nfc(answer.text)
    if text != text.strip() or not text:
        raise ValueError(f"{where}: answer {text!r} is empty or has outer whitespace")
    if answer.defect is None:
        start = locate(context, text, answer.occurrence, where)
        assert context[start : start + len(text)] == text, where
    elif answer.defect == NOT_IN_CONTEXT:
        if text in context:
            raise ValueError(f"{where}: defect {NOT_IN_CONTEXT} but {text!r} is in the context")
        start = -1
    elif answer.defect == START_OFF_BY_3:
        start = locate(context, text, answer.occurrence, where) + SHIFT
        if context[start : start + len(text)] == text:
            raise ValueError(f"{where}: shifted start still matches {text!r}")
    else:
        raise ValueError(f"{where}: unknown defect {answer.defect!r}")
    return {"text": text, "answer_start": start}


def build_json(data_file: DataFile) -> dict[str, Any]:
    articles = []
    for article in data_file.articles:
        paragraphs = []
        for para in article.paragraphs:
            context = nfc(para.context)
            qas = []
            for qa in sorted(para.qas, key=lambda x: x.qid):
                where = f"{data_file.path}, question {qa.qid}"
                answers = [build_answer(context, a, where) for a in qa.answers]
                qas.append({"id": qa.qid, "question": nfc(qa.question), "answers": answers})
            paragraphs.append({"context": context, "qas": qas})
        articles.append({"title": nfc(article.title), "paragraphs": paragraphs})
    return {"version": "1.1", "data": articles}


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def qas_of(data_file: DataFile) -> list[Q]:
    return [qa for article in data_file.articles for para in article.paragraphs for qa in para.qas]


def find_defects(data_file: DataFile, by_path: dict[str, DataFile]) -> set[tuple[str, str]]:
    """The (file, id) pairs of this file that deviate from a clean, complete SQuAD file."""
    found: set[tuple[str, str]] = set()
    for qa in qas_of(data_file):
        if not qa.answers or any(a.defect is not None for a in qa.answers):
            found.add((data_file.path, qa.qid))
    if data_file.pivot is not None:
        own = {qa.qid for qa in qas_of(data_file)}
        for qa in qas_of(by_path[data_file.pivot]):
            if qa.qid not in own:
                found.add((data_file.path, qa.qid))
    return found


def check_collection(files: tuple[DataFile, ...]) -> None:
    by_path = {f.path: f for f in files}
    found: set[tuple[str, str]] = set()
    for data_file in files:
        ids = [qa.qid for qa in qas_of(data_file)]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"{data_file.path}: duplicate question ids {duplicates}")
        if data_file.pivot is not None:
            pivot_ids = {qa.qid for qa in qas_of(by_path[data_file.pivot])}
            extra = sorted(set(ids) - pivot_ids)
            if extra:
                raise ValueError(f"{data_file.path}: ids {extra} are not in {data_file.pivot}")
        found |= find_defects(data_file, by_path)
    if found != set(EXPECTED_DEFECTS):
        raise ValueError(
            f"defects found {sorted(found)} differ from EXPECTED_DEFECTS {sorted(EXPECTED_DEFECTS)}"
        )
    # The long passage: >= 450 words, with an answer in its last quarter.
    long_context = nfc(SQUAD_EN.articles[0].paragraphs[0].context)
    if len(long_context.split()) < 450:
        raise ValueError(f"{SQUAD_EN.path}: the long passage has fewer than 450 words")
    long_qas = build_json(SQUAD_EN)["data"][0]["paragraphs"][0]["qas"]
    last_start = max(a["answer_start"] for qa in long_qas for a in qa["answers"])
    if last_start < 0.75 * len(long_context):
        raise ValueError(f"{SQUAD_EN.path}: no answer in the last quarter of the long passage")


def readme(files: tuple[DataFile, ...]) -> str:
    lines = [
        "# Fixture QA data",
        "",
        "Small SQuAD-v1.1-format files for tests and the demo model. Generated by",
        "`scripts/build_fixture_data.py` (deterministic; do not edit these files by hand, edit",
        "the script and run `.venv/bin/python scripts/build_fixture_data.py`).",
        "",
        "All texts (contexts, questions, answers) are original, written for this project in",
        "each language; they state common-knowledge facts but copy no Wikipedia paragraph and",
        "no passage of any data set. MLQA and XQuAD ids are made-up hex strings of the real",
        "formats' lengths (40 and 24 characters).",
        "",
        "| file | what | articles | questions |",
        "|---|---|---|---|",
    ]
    for data_file in sorted(files, key=lambda f: f.path):
        lines.append(
            f"| `{data_file.path}` | {data_file.description} | {len(data_file.articles)} "
            f"| {len(qas_of(data_file))} |"
        )
    lines += [
        "",
        "`parallel/squad_{en,ja,ko}.json` form a parallel corpus aligned by question id",
        "(pivot: English). Answer spans are located in each language's own context.",
        "",
    ]
    for data_file in files:
        for note in data_file.notes:
            lines.append(f"- {note}")
    lines += ["", "## Deliberate defects", "", "| file | id | what is wrong |", "|---|---|---|"]
    for (path, qid), what in sorted(EXPECTED_DEFECTS.items()):
        lines.append(f"| `{path}` | `{qid}` | {what} |")
    lines += [
        "",
        "Every other answer satisfies `context[answer_start:answer_start + len(text)] == text`.",
        "",
    ]
    return "\n".join(lines)


def build(out: str) -> list[str]:
    """Write every fixture file under `out`; returns the relative paths written (sorted)."""
    check_collection(ALL_FILES)
    outputs: dict[str, bytes] = {f.path: dump(build_json(f)) for f in ALL_FILES}
    outputs["README.md"] = readme(ALL_FILES).encode("utf-8")
    for rel in sorted(outputs):
        path = os.path.join(out, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(outputs[rel])
    return sorted(outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args()
    for rel in build(args.out):
        print(os.path.join(args.out, rel))


if __name__ == "__main__":
    main()
